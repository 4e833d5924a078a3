/**
 * The `jwks` option: a static key set for air-gapped or serverless set-ups. No discovery, no
 * JWKS fetch, no cache adapter call, whatever the token carries.
 */
import t from 'tap'
import { MemoryCacheAdapter } from '../../lib/stores/memory-cache.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { appWith, CountingAdapter, get } from './helpers.js'

const a = await createTestIssuer()
const b = await createTestIssuer()
t.teardown(async () => { await a.close(); await b.close() })
const network = (): number => a.requests.discovery + a.requests.jwks + b.requests.discovery + b.requests.jwks

t.test('static keys: tokens verify with zero network and zero adapter calls', async (t) => {
  const adapter = new CountingAdapter(new MemoryCacheAdapter())
  const app = await appWith(t, { issuerBaseURL: a.issuerBaseURL, jwks: a.jwks(), cache: { adapter } })
  const ok = await get(app, await a.token({ scope: 'read:messages' }), '/messages')
  t.equal(ok.statusCode, 200)
  t.equal((await get(app, await a.token(), '/messages')).statusCode, 403, 'scopes still apply')

  const foreign = await a.foreignKey()
  for (const [name, token] of [
    ['unknown kid', await a.token({}, { signingKey: foreign.privateKey, header: { kid: 'rotated-in' } })],
    ['known kid, wrong key', await a.token({}, { signingKey: foreign.privateKey })],
    ['no kid', await a.token({}, { signingKey: foreign.privateKey, header: { kid: undefined } })],
    ['other issuer', await b.token()]
  ] as const) {
    const res = await get(app, token)
    t.equal(res.statusCode, 401, name)
    t.equal(res.error, 'invalid_token')
  }
  await a.rotateKeys()
  t.equal((await get(app, await a.token())).statusCode, 401, 'a rotated key is not fetched: static means static')
  t.equal(network(), 0, 'no discovery, no JWKS request')
  t.same(adapter.calls, { get: 0, set: 0, delete: 0 }, 'the cache adapter is never used')
})

t.test('static keys with several issuers: one key set for all of them', async (t) => {
  const app = await appWith(t, { domains: [a.issuer, b.issuer], jwks: { keys: [...a.jwks().keys, ...b.jwks().keys] } })
  t.equal((await get(app, await a.token())).statusCode, 200)
  t.equal((await get(app, await b.token())).statusCode, 200)
  const crossed = await a.token({}, { signingKey: b.currentKey.privateKey, header: { kid: b.currentKey.kid } })
  t.equal((await get(app, crossed)).statusCode, 200, 'keys are not tied to an issuer in a static set: list only keys you trust for every issuer')
  t.equal(network(), 0)
})

t.test('static keys are checked at start-up', async (t) => {
  await t.rejects(appWith(t, { issuerBaseURL: a.issuerBaseURL, jwks: { keys: [] } }), /jwks must be a JSON Web Key Set/)
  await t.rejects(appWith(t, { issuerBaseURL: a.issuerBaseURL, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }), /public keys only/)
  await t.rejects(appWith(t, { jwks: a.jwks() }), /jwks needs the issuer/)
})
