/**
 * SPEC §6: keys per issuer, fetched once and shared, refreshed on rotation, kept while the issuer
 * is down (bounded by staleIfError), honouring a shorter Cache-Control max-age; static key sets
 * and fixed JWKS URLs; a bounded number of issuers.
 */
import t from 'tap'
import Fastify from 'fastify'
import { webcrypto } from 'node:crypto'
import type { CryptoKey, JWK } from 'jose'
import auth0Plugin from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE, harness } from '../helpers/app.js'
import { expectInvalidToken, expectUnavailable } from '../helpers/expect.js'
import { claimsFor, signRaw } from '../helpers/jws.js'
import { json, scriptedServer } from '../helpers/scripted-server.js'

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** Waits (up to 5 s) for a background refresh to be observed. */
async function eventually (condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !condition(); i++) await sleep(50)
  return condition()
}

t.test('200 concurrent cold requests: one discovery, one JWKS fetch', async (t) => {
  const h = await harness(t)
  const tokens = await Promise.all(Array.from({ length: 200 }, async (_, i) => await h.issuer.token({ sub: `user-${i}` })))
  const results = await Promise.all(tokens.map(async (token) => await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })))
  t.strictSame(results.map((r) => r.statusCode), Array(200).fill(200))
  t.strictSame(results.map((r) => r.json().sub), tokens.map((_, i) => `user-${i}`))
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 1 })
  // Warm: still nothing more.
  await h.app.inject({ url: '/private', headers: await h.bearer() })
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 1 })
})

t.test('200 concurrent cold requests while the issuer is down: one attempt, 200 × 503', async (t) => {
  const h = await harness(t)
  h.issuer.outage({ jwks: 'status-503' })
  const token = await h.issuer.token()
  const results = await Promise.all(Array.from({ length: 200 }, async () => await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })))
  t.strictSame(results.map((r) => r.statusCode), Array(200).fill(503))
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 1 })
})

t.test('key rotation: the new kid is picked up by the unknown-kid refetch; a dropped key stops verifying', async (t) => {
  const h = await harness(t, { cache: { cooldown: 0 } })
  const before = await h.issuer.token()
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${before}` } })).statusCode, 200)
  await h.issuer.rotateKeys()
  const after = await h.issuer.token()
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${after}` } })).statusCode, 200, 'new key picked up')
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 2 }, 'by one JWKS refetch, no rediscovery')
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${before}` } }), 'no matching signing key')
})

t.test('key rotation with keepPrevious: old and new tokens both verify', async (t) => {
  const h = await harness(t, { cache: { cooldown: 0 } })
  const before = await h.issuer.token()
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${before}` } })).statusCode, 200)
  await h.issuer.rotateKeys({ keepPrevious: true })
  const after = await h.issuer.token()
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${after}` } })).statusCode, 200)
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${before}` } })).statusCode, 200)
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 2 })
})

t.test('rotation inside the cooldown waits for the cooldown (or the ttl)', async (t) => {
  const h = await harness(t, { cache: { cooldown: 2 } })
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  await h.issuer.rotateKeys()
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer() }), 'no matching signing key')
  t.equal(h.issuer.requests.jwks, 1)
  await sleep(2100)
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  t.equal(h.issuer.requests.jwks, 2)
})

t.test('an unknown-kid refetch that fails keeps the known keys', async (t) => {
  const h = await harness(t, { cache: { cooldown: 0, failureBackoff: 0 } })
  const token = await h.issuer.token()
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  h.issuer.outage({ jwks: 'status-503' })
  const foreign = await h.issuer.foreignKey()
  // The refetch for the unknown kid fails: that request cannot be verified (503) …
  expectUnavailable(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${await h.issuer.token({}, { signingKey: foreign.privateKey, header: { kid: foreign.kid } })}` } }))
  // … but the keys we had still verify.
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
})

t.test('stale-if-error: past ttl the cached keys keep verifying while the issuer is down, then 503', async (t) => {
  const h = await harness(t, { cache: { ttl: 1, failureBackoff: 0 }, staleIfError: 2 })
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 1 })
  h.issuer.outage({ jwks: 'status-503' })
  await sleep(1100)
  // Expired, inside staleIfError: served from cache, refreshed in the background (which fails).
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200, 'stale keys verify')
  t.ok(await eventually(() => h.issuer.requests.jwks === 2), 'a background refresh was attempted')
  t.equal(h.issuer.requests.discovery, 2, 'discovery is refreshed with the ttl too')
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200, 'still verifying after the failed refresh')
  await sleep(2000)
  // Past expiry + staleIfError: fail closed.
  expectUnavailable(t, await h.app.inject({ url: '/private', headers: await h.bearer() }))
  h.issuer.restore()
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200, 'recovered')
})

t.test('staleIfError 0: no stale use at all', async (t) => {
  const h = await harness(t, { cache: { ttl: 1, failureBackoff: 0 }, staleIfError: 0 })
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  h.issuer.outage({ discovery: 'status-503', jwks: 'status-503' })
  await sleep(1100)
  expectUnavailable(t, await h.app.inject({ url: '/private', headers: await h.bearer() }))
})

t.test('a healthy issuer past ttl: refreshed in the background, no request waits or fails', async (t) => {
  const h = await harness(t, { cache: { ttl: 1 } })
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  await sleep(1100)
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  t.ok(await eventually(() => h.issuer.requests.jwks === 2))
  t.strictSame(h.issuer.requests, { discovery: 2, jwks: 2 })
})

t.test('Cache-Control max-age shorter than ttl is honoured; a longer one is not', async (t) => {
  for (const [cacheControl, ttl, refetched] of [
    ['public, max-age=1', 600, true],
    ['max-age=3600', 1, true],
    ['max-age=3600', 600, false],
    [undefined, 600, false],
    ['no-store, s-maxage=1', 600, false]
  ] as Array<[string | undefined, number, boolean]>) {
    await t.test(`${cacheControl ?? 'no Cache-Control'}, ttl ${ttl}: ${refetched ? 'refetched' : 'cached'} after 1.1 s`, async (t) => {
      const h = await harness(t)
      const server = await scriptedServer()
      t.teardown(async () => await server.close())
      server.on('/jwks', (_req, res) => json(res, h.issuer.jwks(), cacheControl === undefined ? {} : { 'cache-control': cacheControl }))
      const app = Fastify()
      await app.register(auth0Plugin, { domains: [{ issuer: h.issuer.issuer, jwksUri: `${server.base}jwks` }], audience: AUDIENCE, env: {}, cache: { ttl } })
      app.get('/private', { preHandler: app.requireAuth() }, async () => ({}))
      t.teardown(async () => await app.close())
      t.equal((await app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
      t.equal(server.hits['/jwks'], 1)
      await sleep(1100)
      t.equal((await app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
      if (refetched) t.ok(await eventually(() => server.hits['/jwks'] === 2), 'refetched in the background')
      else await sleep(100)
      t.equal(server.hits['/jwks'], refetched ? 2 : 1)
      t.equal(h.issuer.requests.discovery, 0, 'a fixed jwksUri needs no discovery')
    })
  }
})

t.test('static jwks: no network at all', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => await issuer.close())
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, jwks: issuer.jwks(), audience: AUDIENCE, env: {}, cache: { cooldown: 0 } })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => await app.close())
  issuer.outage({ discovery: 'reset', jwks: 'reset' })
  t.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}` } })).statusCode, 200)
  const foreign = await issuer.foreignKey()
  expectInvalidToken(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token({}, { signingKey: foreign.privateKey, header: { kid: foreign.kid } })}` } }), 'no matching signing key')
  await issuer.rotateKeys()
  expectInvalidToken(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}` } }), 'no matching signing key')
  t.strictSame(issuer.requests, { discovery: 0, jwks: 0 }, 'not even for an unknown kid')
})

t.test('a weak (1024-bit RSA) key in the key set: 401 key_unusable, never accepted', async (t) => {
  // jose refuses to generate it; WebCrypto does not.
  const { privateKey, publicKey } = await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])
  const jwk = { ...(await webcrypto.subtle.exportKey('jwk', publicKey)), kid: 'weak', alg: 'RS256', use: 'sig' } as JWK
  const app = Fastify()
  await app.register(auth0Plugin, { domain: 'tenant.example.com', jwks: { keys: [jwk] }, audience: AUDIENCE, env: {} })
  app.get('/private', { preHandler: app.requireAuth() }, async () => ({}))
  t.teardown(async () => await app.close())
  const token = await signRaw({ alg: 'RS256', kid: 'weak' }, claimsFor('https://tenant.example.com/', AUDIENCE), privateKey as CryptoKey)
  // The issuer's key is unusable, not the client's request broken (test/core/unusable-keys.test.ts).
  expectInvalidToken(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } }), 'signing key unusable: the issuer published a key that cannot verify tokens')
})

t.test('ES256 issuer', async (t) => {
  const h = await harness(t, { algorithms: ['ES256'] }, { alg: 'ES256', audience: [AUDIENCE, 'https://other.example/'] })
  const res = await h.app.inject({ url: '/private', headers: await h.bearer() })
  t.equal(res.statusCode, 200)
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${await h.issuer.token({}, { signingKey: (await h.issuer.foreignKey()).privateKey })}` } }), 'signature verification failed')
})

t.test('at most cache.maxIssuers issuers keep keys; the least recently used is dropped', async (t) => {
  const issuers = await Promise.all([1, 2, 3].map(async () => await createTestIssuer()))
  t.teardown(async () => { for (const i of issuers) await i.close() })
  const [a, b, c] = issuers as [typeof issuers[0], typeof issuers[0], typeof issuers[0]]
  const app = Fastify()
  await app.register(auth0Plugin, { domains: issuers.map((i) => i.issuerBaseURL), audience: AUDIENCE, env: {}, cache: { maxIssuers: 2 } })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ iss: request.claims.iss }))
  t.teardown(async () => await app.close())
  const call = async (issuer: typeof a): Promise<number> => (await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}` } })).statusCode
  t.equal(await call(a), 200)
  t.equal(await call(b), 200)
  t.equal(await call(a), 200) // a becomes the most recently used
  t.equal(await call(c), 200) // evicts b
  t.equal(await call(a), 200)
  t.strictSame([a.requests, b.requests, c.requests], [{ discovery: 1, jwks: 1 }, { discovery: 1, jwks: 1 }, { discovery: 1, jwks: 1 }])
  t.equal(await call(b), 200)
  t.strictSame(b.requests, { discovery: 2, jwks: 2 }, 'b was dropped and fetched again')
})
