/**
 * HMAC verification (SPEC §9, `secret` / AUTH0_SIGNING_SECRET): a verifier of its own kind. With
 * a secret only HS256/384/512 tokens verify, nothing is fetched, `iss` is still checked, and any
 * asymmetric token, or a token MACed with another secret, is a 401. The test issuer signs with
 * the secret (jose); test/interop/hs256-and-jwe.test.ts has oidc-provider as an independent producer.
 */
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { generateKeyPair } from 'jose'
import auth0Plugin, { type AccessTokenClaims, type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, dpopKey, proof, type TestIssuer } from '../../lib/testing/index.js'
import { SecretKeys } from '../../lib/keys/secret-keys.js'
import { hmacAlgorithms } from '../../lib/config/secret.js'
import { expectInvalidToken } from '../helpers/expect.js'
import { claimsFor, segment, signHmac, signRaw } from '../helpers/jws.js'
import { startupError } from '../helpers/startup.js'

const AUDIENCE = 'https://api.example.com/'

async function hmacApp (t: Test, issuer: TestIssuer, options: Partial<Auth0PluginOptions> = {}): Promise<{ get: (token: string, headers?: Record<string, string>) => ReturnType<ReturnType<typeof Fastify>['inject']>, seen: AccessTokenClaims[] }> {
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, secret: issuer.secret, env: {}, ...options })
  const seen: AccessTokenClaims[] = []
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => { seen.push(request.claims); return { sub: request.claims.sub, scheme: request.auth?.scheme } })
  app.get('/dpop', { preHandler: app.requireAuth({ dpop: 'required' }) }, async (request) => ({ jkt: request.auth?.jkt }))
  await app.ready()
  t.teardown(async () => await app.close())
  return { get: async (token, headers = {}) => await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}`, ...headers } }), seen }
}

async function hmacIssuer (t: Test, alg = 'HS256', secret?: string): Promise<TestIssuer> {
  const issuer = await createTestIssuer({ alg, ...(secret !== undefined ? { secret } : {}) })
  t.teardown(async () => await issuer.close())
  return issuer
}

t.test('an HS256 token signed with the secret passes; nothing is fetched', async (t) => {
  const issuer = await hmacIssuer(t)
  const { get } = await hmacApp(t, issuer)
  const res = await get(await issuer.token({ sub: 'auth0|alice' }))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'auth0|alice', scheme: 'bearer' })
  t.strictSame(issuer.requests, { discovery: 0, jwks: 0 }, 'no discovery, no JWKS')
})

t.test('the secret from AUTH0_SIGNING_SECRET, and as bytes', async (t) => {
  const issuer = await hmacIssuer(t)
  const fromEnv = await hmacApp(t, issuer, { secret: undefined, env: { AUTH0_SIGNING_SECRET: issuer.secret } })
  t.equal((await fromEnv.get(await issuer.token())).statusCode, 200, 'env')
  const fromBytes = await hmacApp(t, issuer, { secret: Buffer.from(issuer.secret as string) })
  t.equal((await fromBytes.get(await issuer.token())).statusCode, 200, 'Buffer')
  const explicitWins = await hmacApp(t, issuer, { env: { AUTH0_SIGNING_SECRET: 'x'.repeat(40) } })
  t.equal((await explicitWins.get(await issuer.token())).statusCode, 200, 'the option wins over the variable')
})

t.test('HS384 and HS512 when listed; each algorithm only when listed', async (t) => {
  for (const alg of ['HS384', 'HS512']) {
    const issuer = await hmacIssuer(t, alg)
    const listed = await hmacApp(t, issuer, { algorithms: ['HS256', alg] })
    t.equal((await listed.get(await issuer.token())).statusCode, 200, `${alg} listed`)
    const notListed = await hmacApp(t, issuer)
    expectInvalidToken(t, await notListed.get(await issuer.token()), 'token algorithm not allowed')
  }
})

t.test('refused: another secret, a tampered token, asymmetric and unsigned tokens, another issuer', async (t) => {
  const issuer = await hmacIssuer(t)
  const { get } = await hmacApp(t, issuer)
  const claims = claimsFor(issuer.issuer, AUDIENCE)
  expectInvalidToken(t, await get(signHmac({ alg: 'HS256', typ: 'JWT' }, claims, 'another secret of at least thirty-two bytes')), 'signature verification failed')
  expectInvalidToken(t, await get(await issuer.token({}, { signingKey: (await issuer.foreignKey()).privateKey })), 'signature verification failed')
  const [h, , s] = (await issuer.token()).split('.')
  expectInvalidToken(t, await get(`${h}.${segment({ ...claims, sub: 'admin' })}.${s}`), 'signature verification failed')
  // An asymmetric token from a key the attacker owns: refused on its alg, before any key is looked at.
  for (const alg of ['RS256', 'ES256']) {
    const { privateKey } = await generateKeyPair(alg)
    expectInvalidToken(t, await get(await signRaw({ alg, typ: 'JWT' }, claims, privateKey, alg)), 'token algorithm not allowed')
  }
  expectInvalidToken(t, await get(`${segment({ alg: 'none' })}.${segment(claims)}.c2ln`), 'token algorithm not allowed')
  // `iss` is checked against issuerBaseURL, though the secret alone would verify the MAC.
  expectInvalidToken(t, await get(signHmac({ alg: 'HS256' }, { ...claims, iss: 'https://evil.example.com/' }, issuer.secret as string)), 'issuer not allowed')
  expectInvalidToken(t, await get(await issuer.token({ aud: 'https://other.example.com/' })), 'unexpected aud claim value')
  expectInvalidToken(t, await get(await issuer.token({}, { expiresIn: -60 })), 'token expired')
  t.strictSame(issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('a kid in the header names nothing: any kid, a non-string one included, selects the secret', async (t) => {
  const issuer = await hmacIssuer(t)
  const { get } = await hmacApp(t, issuer)
  for (const kid of ['k1', 'another', 42, { a: 1 }]) {
    t.equal((await get(signHmac({ alg: 'HS256', kid }, claimsFor(issuer.issuer, AUDIENCE), issuer.secret as string))).statusCode, 200, JSON.stringify(kid))
  }
})

t.test('the verified-token cache serves HMAC tokens too (same frozen claims object from the third request)', async (t) => {
  const issuer = await hmacIssuer(t)
  const { get, seen } = await hmacApp(t, issuer)
  const token = await issuer.token()
  for (let i = 0; i < 3; i++) t.equal((await get(token)).statusCode, 200)
  t.not(seen[0], seen[1], 'first two verified in full')
  t.equal(seen[2], seen[1], 'third from the cache')
  t.ok(Object.isFrozen(seen[2]))
})

t.test('DPoP-bound HS256 tokens: binding checked as for any token', async (t) => {
  const issuer = await hmacIssuer(t)
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, secret: issuer.secret, env: {} })
  app.get('/dpop', { preHandler: app.requireAuth({ dpop: 'required' }) }, async (request) => ({ jkt: request.auth?.jkt }))
  t.teardown(async () => await app.close())
  const key = await dpopKey()
  const token = await issuer.token({}, { dpopKey: key })
  const url = 'http://localhost:80/dpop'
  const ok = await app.inject({ url: '/dpop', headers: { host: 'localhost:80', authorization: `DPoP ${token}`, dpop: await proof({ key, url, accessToken: token }) } })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { jkt: key.jkt })
  const bearer = await app.inject({ url: '/dpop', headers: { authorization: `Bearer ${token}` } })
  t.equal(bearer.statusCode, 400)
})

t.test('SecretKeys: one key per algorithm, kid ignored; an algorithm it was not made for has no key', async (t) => {
  const keys = await SecretKeys.create(new TextEncoder().encode('s'.repeat(64)), 'https://issuer.example/', ['HS256', 'HS512'])
  t.equal(keys.keysFor(), keys)
  t.equal(keys.issuer, 'https://issuer.example/')
  t.equal(await keys.getKey({ alg: 'HS256', kid: 'anything' }), keys.keyForAlg('HS256'))
  t.equal((await keys.getKey({ alg: 'HS512' })).algorithm.name, 'HMAC')
  t.equal(keys.keyForAlg('HS384'), undefined)
  await t.rejects(keys.getKey({ alg: 'HS384' }), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
})

const S32 = 'a'.repeat(32)
const S64 = 'b'.repeat(64)
const base: Auth0PluginOptions = { issuerBaseURL: 'https://tenant.example.com/', audience: AUDIENCE, env: {} }
const P = 'fastify-auth0-api: '
const startupCases: Array<[string, Auth0PluginOptions, string]> = [
  ['secret shorter than HS256 needs', { ...base, secret: 'x'.repeat(31) }, 'secret is 31 bytes: HS256 needs a secret of at least 32 bytes (its hash length, RFC 7518 §3.2)'],
  ['empty secret', { ...base, secret: '' }, 'secret is 0 bytes: HS256 needs a secret of at least 32 bytes (its hash length, RFC 7518 §3.2)'],
  ['secret bytes counted, not characters', { ...base, secret: 'é'.repeat(15) }, 'secret is 30 bytes: HS256 needs a secret of at least 32 bytes (its hash length, RFC 7518 §3.2)'],
  ['HS384 with 32 bytes', { ...base, secret: S32, algorithms: ['HS256', 'HS384'] }, 'secret is 32 bytes: HS384 needs a secret of at least 48 bytes (its hash length, RFC 7518 §3.2)'],
  ['HS512 with 48 bytes', { ...base, secret: Buffer.alloc(48, 1), algorithms: ['HS512'] }, 'secret is 48 bytes: HS512 needs a secret of at least 64 bytes (its hash length, RFC 7518 §3.2)'],
  ['AUTH0_SIGNING_SECRET too short', { ...base, env: { AUTH0_SIGNING_SECRET: 'short' } }, 'AUTH0_SIGNING_SECRET is 5 bytes: HS256 needs a secret of at least 32 bytes (its hash length, RFC 7518 §3.2)'],
  ['secret of another type', { ...base, secret: 42 as never }, 'secret must be a string (used as its UTF-8 bytes) or a Buffer / Uint8Array (got number)'],
  ['secret with RS256', { ...base, secret: S32, algorithms: ['RS256'] }, 'algorithms must hold only HS256, HS384 or HS512 when secret is set, not "RS256": an HMAC verifier never accepts another kind of token (remove secret, or the other algorithms)'],
  ['secret with HS256 and ES256', { ...base, secret: S32, algorithms: ['HS256', 'ES256'] }, 'algorithms must hold only HS256, HS384 or HS512 when secret is set, not "ES256": an HMAC verifier never accepts another kind of token (remove secret, or the other algorithms)'],
  ['AUTH0_SIGNING_SECRET with RS256', { ...base, algorithms: ['RS256'], env: { AUTH0_SIGNING_SECRET: S32 } }, 'algorithms must hold only HS256, HS384 or HS512 when AUTH0_SIGNING_SECRET is set, not "RS256": an HMAC verifier never accepts another kind of token (remove AUTH0_SIGNING_SECRET, or the other algorithms)'],
  ['secret with none', { ...base, secret: S32, algorithms: ['none'] }, 'algorithms must hold only HS256, HS384 or HS512 when secret is set, not "none": an HMAC verifier never accepts another kind of token (remove secret, or the other algorithms)'],
  ['secret with lower-case hs256', { ...base, secret: S32, algorithms: ['hs256'] }, 'algorithms must hold only HS256, HS384 or HS512 when secret is set, not "hs256": an HMAC verifier never accepts another kind of token (remove secret, or the other algorithms)'],
  ['secret with empty algorithms', { ...base, secret: S32, algorithms: [] }, 'algorithms must be a non-empty array of algorithm names'],
  ['secret with algorithms not strings', { ...base, secret: S32, algorithms: [256] as never }, 'algorithms must be an array of algorithm names (got an array holding number)'],
  ['secret with jwks', { ...base, secret: S32, jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] } }, 'secret cannot be combined with jwks: a verifier uses an HMAC secret or public keys, never both (remove one of them)'],
  ['AUTH0_SIGNING_SECRET with jwks', { ...base, jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] }, env: { AUTH0_SIGNING_SECRET: S32 } }, 'AUTH0_SIGNING_SECRET cannot be combined with jwks: a verifier uses an HMAC secret or public keys, never both (remove one of them)'],
  ['secret with domains', { audience: AUDIENCE, env: {}, secret: S64, domains: ['a.example.com', 'b.example.com'] }, 'secret cannot be combined with domains: an HMAC secret verifies the tokens of the one issuer named by domain or issuerBaseURL'],
  ['secret with a domains resolver', { ...base, secret: S64, domains: () => [] }, 'secret cannot be combined with domains: an HMAC secret verifies the tokens of the one issuer named by domain or issuerBaseURL'],
  ['secret without an issuer', { audience: AUDIENCE, env: {}, secret: S32 }, 'secret needs the issuer its tokens name: set domain (or AUTH0_DOMAIN) or issuerBaseURL (or AUTH0_ISSUER_BASE_URL)'],
  ['HS256 without a secret', { ...base, algorithms: ['HS256'] }, 'algorithms must not contain HS256 without a secret: HMAC tokens are verified only by a verifier configured with the secret option (or AUTH0_SIGNING_SECRET), which then accepts HMAC tokens only']
]

for (const [name, options, message] of startupCases) {
  t.test(`start-up: ${name}`, async (t) => {
    t.equal((await startupError(options)).message, P + message)
  })
}

t.test('start-up: a valid HMAC configuration from a domain, with all three algorithms', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(auth0Plugin, { domain: 'tenant.us.auth0.com', audience: AUDIENCE, env: {}, secret: S64, algorithms: ['HS256', 'HS384', 'HS512', 'HS256'] })
  await app.ready()
  t.pass('registered')
})

t.test('hmacAlgorithms refuses a wrong type on its own too (when called before the option check)', async (t) => {
  const secret = { bytes: new Uint8Array(64), name: 'secret' }
  for (const value of ['HS256', [256], []]) t.throws(() => hmacAlgorithms(value, secret), new Error('fastify-auth0-api: algorithms must be a non-empty array of algorithm names'))
  t.same(hmacAlgorithms(undefined, secret), ['HS256'])
})
