/**
 * DPoP through `fastify.auth0.verify({ method, url, headers })`, the entry point outside routes
 * (e.g. a WebSocket upgrade): the URL must be absolute, or a path under publicBaseURL.
 */
import t from 'tap'
import { InternalAuthError, InvalidDpopProofError, InvalidRequestError } from '../../lib/index.js'
import { dpopHarness } from './helpers.js'
import { expectErrorGrammar } from '../helpers/expect.js'

t.test('absolute URL', async (t) => {
  const h = await dpopHarness(t)
  const token = await h.boundToken()
  const url = 'http://api.example.com/ws?ticket=1'
  const claims = await h.app.auth0.verify({ method: 'GET', url, headers: { authorization: `DPoP ${token}`, dpop: await h.proofFor(token, '/ws') } })
  t.equal(claims.cnf?.jkt, h.key.jkt)

  const headersWith = async (dpop: string | string[] | undefined): Promise<Record<string, string | string[] | undefined>> => ({ authorization: `DPoP ${token}`, dpop })
  const one = await h.proofFor(token, '/ws')
  t.equal((await h.app.auth0.verify({ method: 'GET', url, headers: await headersWith([one]) })).sub, 'test-user', 'an array of one proof')

  const err = await h.app.auth0.verify({ method: 'GET', url, headers: await headersWith([one, one]) }).catch((e: unknown) => e)
  t.type(err, InvalidRequestError)
  t.match(err, { statusCode: 400, reason: 'dpop_proof_repeated', headers: { 'www-authenticate': 'Bearer realm="api", DPoP error="invalid_request", error_description="more than one DPoP header", algs="ES256"' } })
  expectErrorGrammar(t, err)

  const missing = await h.app.auth0.verify({ method: 'GET', url, headers: await headersWith(undefined) }).catch((e: unknown) => e)
  expectErrorGrammar(t, missing)
  t.match(missing, {
    statusCode: 400,
    error: 'invalid_request',
    reason: 'dpop_proof_missing',
    headers: { 'www-authenticate': 'Bearer realm="api", DPoP error="invalid_request", error_description="DPoP proof header missing", algs="ES256"' }
  })
  const replay = await h.app.auth0.verify({ method: 'GET', url, headers: await headersWith(one) }).catch((e: unknown) => e)
  t.type(replay, InvalidDpopProofError)
  t.match(replay, {
    statusCode: 401,
    error: 'invalid_dpop_proof',
    reason: 'proof_replayed',
    headers: { 'www-authenticate': 'Bearer realm="api", DPoP error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256"' }
  })
  expectErrorGrammar(t, replay)
  const wsUrl = await h.app.auth0.verify({ method: 'GET', url: 'ws://api.example.com/ws', headers: await headersWith(await h.proofFor(token, '/ws')) }).catch((e: unknown) => e)
  expectErrorGrammar(t, wsUrl)
  t.match(wsUrl, {
    statusCode: 400,
    error: 'invalid_request',
    reason: 'request_url_invalid',
    headers: { 'www-authenticate': 'Bearer realm="api", DPoP error="invalid_request", error_description="request URL is not an absolute http(s) URL", algs="ES256"' }
  })
})

t.test('a path needs publicBaseURL', async (t) => {
  const h = await dpopHarness(t)
  const token = await h.boundToken()
  const err = await h.app.auth0.verify({ method: 'GET', url: '/ws', headers: { authorization: `DPoP ${token}`, dpop: await h.proofFor(token, '/ws') } }).catch((e: unknown) => e)
  t.type(err, InternalAuthError)
  t.match(err, { statusCode: 500, error: 'internal_server_error', reason: 'dpop_request_url_unknown', headers: {} })

  const based = await dpopHarness(t, { publicBaseURL: 'https://public.example.com/api' })
  const bound = await based.boundToken()
  const dpop = await based.proofFor(bound, '', { url: 'https://public.example.com/api/ws' })
  const claims = await based.app.auth0.verify({ method: 'GET', url: '/ws', headers: { authorization: `DPoP ${bound}`, dpop } })
  t.equal(claims.sub, 'test-user')
})
