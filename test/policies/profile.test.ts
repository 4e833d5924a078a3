/**
 * SPEC §8 token profile: explicit typing in every profile (RFC 8725 §3.11), the RFC 9068 profile
 * (typ at+jwt, client_id, jti), requiredClaims, maxTokenAge (on every request, cache hits
 * included), and request.auth.clientId. Real issuer, real signatures, real Fastify.
 */
import t from 'tap'
import { InvalidTokenError } from '../../lib/index.js'
import { dpopOnlyChallenge, expectError, expectInvalidToken, expectGrammar } from '../helpers/expect.js'
import { describable, echo, policyApp, sleep } from './helpers.js'

const NOT_ACCESS_TOKEN = 'token typ names another kind of JWT, not an access token'
const NOT_AT_JWT = 'token typ is not at+jwt: this API requires RFC 9068 access tokens (an Auth0 API on the Auth0 token profile issues typ JWT: switch it to the RFC 9068 profile)'

t.test('descriptions stay within RFC 6750 §3 characters', async (t) => {
  for (const text of [NOT_ACCESS_TOKEN, NOT_AT_JWT]) t.ok(describable(text), text)
})

t.test("profile 'any' (default): Auth0's typ JWT and none pass, another JWT type is refused", async (t) => {
  const h = await policyApp(t, {}, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  for (const typ of ['JWT', 'jwt', 'at+jwt', 'application/at+jwt', 'AT+JWT', 'application/jwt', undefined]) {
    t.equal((await h.bearer('/private', {}, { header: { typ } })).statusCode, 200, `typ ${String(typ)}`)
  }
  // A DPoP proof, a logout token, a security event token … signed by the issuer's key.
  for (const typ of ['dpop+jwt', 'logout+jwt', 'secevent+jwt', 'application/dpop+jwt', 'DPoP+JWT', 'Application/Logout+JWT', 'token-introspection+jwt', 'id_token+jwt']) {
    const res = await h.bearer('/private', {}, { header: { typ } })
    expectInvalidToken(t, res, NOT_ACCESS_TOKEN)
  }
  for (const typ of [42, null, ['at+jwt'], { typ: 'at+jwt' }]) {
    expectInvalidToken(t, await h.bearer('/private', {}, { header: { typ } }), 'access token typ header is not a string')
  }
  // Under DPoP the error is on the DPoP challenge.
  const res = await h.dpop('/private', {}, { header: { typ: 'logout+jwt' } })
  expectError(t, res, { status: 401, error: 'invalid_token', description: NOT_ACCESS_TOKEN, challenge: `Bearer realm="api", ${dpopOnlyChallenge('invalid_token', NOT_ACCESS_TOKEN)}` })
})

t.test("profile 'rfc9068': typ at+jwt, client_id and jti required", async (t) => {
  const h = await policyApp(t, { profile: 'rfc9068' }, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  const full = { client_id: 'client-1', jti: 'token-1' }
  for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
    const res = await h.bearer('/private', full, { header: { typ } })
    t.equal(res.statusCode, 200, `typ ${typ}`)
    t.equal(res.json().auth.clientId, 'client-1')
  }
  await t.test('an Auth0-profile token (typ JWT) is told why', async (t) => {
    for (const typ of ['JWT', undefined, 'jwt', 'JOSE']) expectInvalidToken(t, await h.bearer('/private', full, { header: { typ } }), NOT_AT_JWT)
  })
  await t.test('another JWT type', async (t) => {
    expectInvalidToken(t, await h.bearer('/private', full, { header: { typ: 'dpop+jwt' } }), NOT_ACCESS_TOKEN)
  })
  await t.test('client_id and jti', async (t) => {
    for (const [claims, description] of [
      [{ jti: 'x' }, 'RFC 9068 profile: client_id claim missing or not a string'],
      [{ jti: 'x', client_id: '' }, 'RFC 9068 profile: client_id claim missing or not a string'],
      [{ jti: 'x', client_id: '  ' }, 'RFC 9068 profile: client_id claim missing or not a string'],
      [{ jti: 'x', client_id: 7 }, 'RFC 9068 profile: client_id claim missing or not a string'],
      [{ jti: 'x', azp: 'client-1' }, 'RFC 9068 profile: client_id claim missing or not a string'],
      [{ client_id: 'c' }, 'RFC 9068 profile: jti claim missing or not a string'],
      [{ client_id: 'c', jti: ['x'] }, 'RFC 9068 profile: jti claim missing or not a string']
    ] as const) {
      t.ok(describable(description))
      expectInvalidToken(t, await h.bearer('/private', claims), description)
    }
  })
  await t.test('the reason is stable', async (t) => {
    const token = await h.issuer.token({ jti: 'x' }, { header: { typ: 'JWT' } })
    const err = await h.app.auth0.verify({ method: 'GET', url: '/', headers: { authorization: `Bearer ${token}` } }).then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof InvalidTokenError)
    t.equal((err as InvalidTokenError).reason, 'typ_not_at_jwt')
    const noClient = await h.issuer.token({ jti: 'x' })
    const err2 = await h.app.auth0.verify({ method: 'GET', url: '/', headers: { authorization: `Bearer ${noClient}` } }).then(() => undefined, (e: unknown) => e)
    t.equal((err2 as InvalidTokenError).reason, 'profile_claim_missing')
  })
})

t.test('requiredClaims: present and not null', async (t) => {
  const h = await policyApp(t, { requiredClaims: ['tenant', 'https://example.com/plan'] }, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  t.equal((await h.bearer('/private', { tenant: 'acme', 'https://example.com/plan': 'gold' })).statusCode, 200)
  t.equal((await h.bearer('/private', { tenant: '', 'https://example.com/plan': false })).statusCode, 200, 'any value but null')
  expectInvalidToken(t, await h.bearer('/private', { 'https://example.com/plan': 'gold' }), 'missing required tenant claim')
  expectInvalidToken(t, await h.bearer('/private', { tenant: 'acme', 'https://example.com/plan': null }), 'missing required https://example.com/plan claim')
  // Not inherited: a claim named like an Object.prototype member must really be there.
  const proto = await policyApp(t, { requiredClaims: ['toString'] }, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  expectInvalidToken(t, await proto.bearer('/private'), 'missing required toString claim')
  t.equal((await proto.bearer('/private', { toString: 'x' })).statusCode, 200)
})

t.test('maxTokenAge: iat within the window, judged on every request (cache hits included)', async (t) => {
  const h = await policyApp(t, { maxTokenAge: 2, clockTolerance: 0 }, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  const now = Math.floor(Date.now() / 1000)
  expectInvalidToken(t, await h.bearer('/private', { iat: now - 60 }), 'token too old: issued more than 2 seconds ago')
  t.equal((await h.bearer('/private', { iat: now })).statusCode, 200)

  // The same token three times: verified in full twice, then served from the verified-token cache
  // (the next test shows the hit); then the clock moves past maxTokenAge.
  const token = await h.issuer.token({ iat: now })
  for (let i = 0; i < 3; i++) t.equal((await h.send('/private', token)).statusCode, 200, `request ${i + 1} within the window`)
  await sleep((now + 3) * 1000 - Date.now() + 50)
  expectInvalidToken(t, await h.send('/private', token), 'token too old: issued more than 2 seconds ago')
})

t.test('maxTokenAge: the clock moves past it between two requests served from the cache, under DPoP too', async (t) => {
  const h = await policyApp(t, { maxTokenAge: 2, clockTolerance: 0 }, (app) => {
    const seen: unknown[] = []
    app.get('/dpop', { preHandler: app.requireAuth({ dpop: 'required' }) }, async (request) => {
      seen.push(request.claims)
      return { cached: seen.length > 1 && seen[seen.length - 1] === seen[seen.length - 2] }
    })
  })
  const { proof } = await import('../../lib/testing/index.js')
  const now = Math.floor(Date.now() / 1000)
  const token = await h.issuer.token({ iat: now }, { dpopKey: h.key })
  const send = async (): Promise<Awaited<ReturnType<typeof h.app.inject>>> =>
    await h.app.inject({ url: '/dpop', headers: { host: 'api.example.com', authorization: `DPoP ${token}`, dpop: await proof({ key: h.key, url: 'http://api.example.com/dpop', accessToken: token }) } })
  t.equal((await send()).statusCode, 200)
  t.equal((await send()).statusCode, 200)
  const third = await send()
  t.same(third.json(), { cached: true }, 'third request: served from the verified-token cache')
  await sleep((now + 3) * 1000 - Date.now() + 50)
  const res = await send()
  const description = 'token too old: issued more than 2 seconds ago'
  expectError(t, res, { status: 401, error: 'invalid_token', description, challenge: dpopOnlyChallenge('invalid_token', description) })
})

t.test('request.auth.clientId: client_id, else azp, else absent', async (t) => {
  const h = await policyApp(t, {}, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  const token = await h.issuer.token({ client_id: 'rfc' })
  t.same((await h.send('/private', token)).json().auth, { scheme: 'bearer', token, clientId: 'rfc' })
  const both = await h.bearer('/private', { client_id: 'rfc', azp: 'auth0' })
  t.equal(both.json().auth.clientId, 'rfc', 'client_id wins')
  t.equal((await h.bearer('/private', { azp: 'auth0' })).json().auth.clientId, 'auth0', 'azp (Auth0 profile)')
  t.notOk('clientId' in (await h.bearer('/private')).json().auth, 'neither: no clientId')
  t.notOk('clientId' in (await h.bearer('/private', { azp: 7 })).json().auth, 'a non-string azp is ignored')
  t.equal((await h.bearer('/private', { client_id: 7, azp: 'auth0' })).json().auth.clientId, 'auth0', 'a non-string client_id is ignored')
  const dpop = await h.dpop('/private', { azp: 'auth0' })
  t.same(Object.keys(dpop.json().auth).sort(), ['clientId', 'jkt', 'scheme', 'token'])
})

t.test('the default configuration refuses nothing new (Auth0 profile tokens)', async (t) => {
  const h = await policyApp(t, {}, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  const res = await h.bearer('/private', { azp: 'client', gty: 'client-credentials' }, { header: { typ: 'JWT' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['www-authenticate'], undefined)
  expectGrammar(t, res)
})
