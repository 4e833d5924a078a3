/**
 * Encrypted access tokens (SPEC §9, `decryption`): JWE compact from two producers, the testing
 * kit (jose) and test/fixtures/jwe-producer.ts (node:crypto alone), so jose is not on both sides.
 * Header checks come before any private-key work; any decryption failure is one 401; the signed
 * token inside is verified as any token (signature, claims, DPoP binding); the verdict is cached
 * under the token as sent.
 */
import { createHash, createSecretKey, generateKeyPairSync, webcrypto } from 'node:crypto'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { exportJWK } from 'jose'
import auth0Plugin, { type AccessTokenClaims, type Auth0PluginOptions, type DecryptionOptions } from '../../lib/index.js'
import { createTestIssuer, decryptionKeyPair, dpopKey, encryptToken, proof, type DecryptionKeyPair, type TestIssuer } from '../../lib/testing/index.js'
import { expectError, expectInvalidToken, dpopOnlyChallenge } from '../helpers/expect.js'
import { claimsFor, segment } from '../helpers/jws.js'
import { produceJwe } from '../fixtures/jwe-producer.js'
import { resolveDecryption } from '../../lib/jwe/options.js'
import { resolveSecret } from '../../lib/config/secret.js'

const AUDIENCE = 'https://api.example.com/'
const FAILED = 'access token could not be decrypted'
const ALG_NOT_ALLOWED = 'token key management algorithm (alg) not allowed'

interface Api {
  app: FastifyInstance
  issuer: TestIssuer
  seen: AccessTokenClaims[]
  get: (token: string, headers?: Record<string, string>) => Promise<LightMyRequestResponse>
}

async function api (t: Test, decryption: DecryptionOptions | undefined, options: Partial<Auth0PluginOptions> = {}, issuer?: TestIssuer): Promise<Api> {
  const iss = issuer ?? await createTestIssuer()
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: iss.issuerBaseURL, audience: AUDIENCE, env: {}, ...(decryption !== undefined ? { decryption } : {}), ...options })
  const seen: AccessTokenClaims[] = []
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => { seen.push(request.claims); return { sub: request.claims.sub, auth: request.auth } })
  app.get('/dpop', { preHandler: app.requireAuth({ dpop: 'required' }) }, async (request) => ({ jkt: request.auth?.jkt }))
  await app.ready()
  t.teardown(async () => { await app.close(); if (issuer === undefined) await iss.close() })
  return { app, issuer: iss, seen, get: async (token, headers = {}) => await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}`, ...headers } }) }
}

const rsa = decryptionKeyPair()
const other = decryptionKeyPair()

t.test('a token encrypted by the testing kit (jose): 200, auth.token is the token as sent', async (t) => {
  const { issuer, get } = await api(t, { keys: [{ privateKey: rsa.privateKey }] })
  const token = await issuer.token({ sub: 'auth0|enc' }, { encrypt: { publicKey: rsa.publicKey } })
  t.equal(token.split('.').length, 5)
  const res = await get(token)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'auth0|enc', auth: { scheme: 'bearer', token } })
})

t.test('tokens encrypted with node:crypto alone: every RSA-OAEP-256/384/512 × AES-GCM / CBC-HS pair allowed', async (t) => {
  const encryption = ['A256GCM', 'A192GCM', 'A128GCM', 'A256CBC-HS512', 'A192CBC-HS384', 'A128CBC-HS256']
  const { issuer, get } = await api(t, { keys: [{ privateKey: rsa.privateKeyPem }], encryption })
  for (const alg of ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512']) {
    for (const enc of encryption) {
      const res = await get(produceJwe(await issuer.token({ sub: `${alg} ${enc}` }), rsa.publicKey, { alg, enc }))
      t.equal(res.statusCode, 200, `${alg} + ${enc}`)
      t.equal(res.json().sub, `${alg} ${enc}`)
    }
  }
  for (const cty of [undefined, 'JWT', 'jwt', 'at+jwt', 'application/at+jwt', 'application/JWT']) {
    t.equal((await get(produceJwe(await issuer.token(), rsa.publicKey, { header: { cty } }))).statusCode, 200, `cty ${String(cty)}`)
  }
})

t.test('key forms: PEM, JWK, KeyObject, CryptoKey', async (t) => {
  const jwk = await exportJWK(rsa.privateKey)
  const cryptoKey = await webcrypto.subtle.importKey('pkcs8', rsa.privateKey.export({ type: 'pkcs8', format: 'der' }), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt'])
  const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string
  for (const [name, privateKey] of [['PKCS#8 PEM', rsa.privateKeyPem], ['PKCS#1 PEM', pkcs1], ['JWK', jwk], ['KeyObject', rsa.privateKey], ['CryptoKey', cryptoKey]] as const) {
    const { issuer, get } = await api(t, { keys: [{ privateKey }] })
    t.equal((await get(produceJwe(await issuer.token(), rsa.publicKey))).statusCode, 200, name)
  }
})

t.test('kid selects the key; an unknown kid, or no kid among several keyed keys, is a 401 without decrypting', async (t) => {
  const { issuer, get } = await api(t, { keys: [{ privateKey: rsa.privateKey, kid: 'k1' }, { privateKey: other.privateKey, kid: 'k2' }] })
  const jws = await issuer.token()
  t.equal((await get(produceJwe(jws, rsa.publicKey, { header: { kid: 'k1' } }))).statusCode, 200, 'k1')
  t.equal((await get(produceJwe(jws, other.publicKey, { header: { kid: 'k2' } }))).statusCode, 200, 'k2')
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { header: { kid: 'k3' } })), 'no matching decryption key (kid)')
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey)), 'no matching decryption key (kid)')
  // A kid naming the other key: that key cannot decrypt it.
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { header: { kid: 'k2' } })), FAILED)
  for (const kid of [1, null, ['k1'], { k: 1 }]) {
    expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { header: { kid } })), 'encrypted access token is not a well-formed compact JWE')
  }
})

t.test('a token without kid: the key configured without one, or the only key', async (t) => {
  const two = await api(t, { keys: [{ privateKey: other.privateKey, kid: 'k2' }, { privateKey: rsa.privateKey }] })
  const jws = await two.issuer.token()
  t.equal((await two.get(produceJwe(jws, rsa.publicKey))).statusCode, 200, 'the unnamed key')
  expectInvalidToken(t, await two.get(produceJwe(jws, other.publicKey)), FAILED)
  const one = await api(t, { keys: [{ privateKey: rsa.privateKey, kid: 'only' }] })
  t.equal((await one.get(produceJwe(await one.issuer.token(), rsa.publicKey))).statusCode, 200, 'the only key, though it has a kid')
})

t.test('wrong key, tampering, a lying header: 401 decryption_failed, never a 500', async (t) => {
  const { issuer, get } = await api(t, { keys: [{ privateKey: rsa.privateKey }] })
  const jws = await issuer.token()
  expectInvalidToken(t, await get(produceJwe(jws, other.publicKey)), FAILED)
  expectInvalidToken(t, await get(await encryptToken(jws, { publicKey: other.publicKey })), FAILED)
  const big = decryptionKeyPair({ modulusLength: 3072 })
  expectInvalidToken(t, await get(produceJwe(jws, big.publicKey)), FAILED)
  const good = produceJwe(jws, rsa.publicKey).split('.')
  const flip = (s: string, at: number): string => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1)
  for (const i of [1, 2, 3, 4]) {
    const parts = [...good]
    parts[i] = flip(parts[i] as string, 2)
    expectInvalidToken(t, await get(parts.join('.')), FAILED)
  }
  // The header is the AAD: an edited header (still allowed) does not decrypt.
  expectInvalidToken(t, await get([segment({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }), ...good.slice(1)].join('.')), FAILED)
  // The header says SHA-384 while the key was wrapped with SHA-256.
  const wrapped256 = produceJwe(jws, rsa.publicKey, { alg: 'RSA-OAEP-256' }).split('.')
  expectInvalidToken(t, await get([segment({ alg: 'RSA-OAEP-384', enc: 'A256GCM', cty: 'JWT' }), ...wrapped256.slice(1)].join('.')), FAILED)
  // A CEK of the wrong length for the enc.
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { cek: Buffer.alloc(16, 1) })), FAILED)
})

t.test('headers refused before any private-key work: zip, dir, RSA1_5, PBES2, key wrap, ECDH, crit, cty, enc', async (t) => {
  const { issuer, get } = await api(t, { keys: [{ privateKey: rsa.privateKey }] })
  const jws = await issuer.token()
  // Real, decryptable tokens: were the header let through, they would decrypt to a valid JWS.
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { alg: 'RSA1_5' })), ALG_NOT_ALLOWED)
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { alg: 'RSA-OAEP' })), ALG_NOT_ALLOWED)
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { enc: 'A128GCM' })), 'token content encryption algorithm (enc) not allowed')
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { header: { zip: 'DEF' } })), 'compressed (zip) encrypted tokens are not accepted')
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { header: { crit: ['exp'], exp: 1 } })), 'encrypted token header has critical (crit) parameters')
  for (const cty of ['JSON', 'dpop+jwt', 5]) {
    expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { header: { cty } })), 'encrypted token content type (cty) is not a JWT')
  }
  // Auth0's token for no audience: `dir`, and a hint instead of "wrong key".
  expectInvalidToken(t, await get(produceJwe(jws, rsa.publicKey, { alg: 'dir', cek: Buffer.alloc(32, 7) })), 'token encrypted for another party (alg dir): did the client request an audience?')
  const rest = produceJwe(jws, rsa.publicKey).split('.').slice(1).join('.')
  for (const header of [
    { alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', p2c: 1e9, p2s: 'AAAAAAAAAAAAAAAAAAAAAA' }, { alg: 'PBES2-HS512+A256KW', enc: 'A256GCM' },
    { alg: 'A256KW', enc: 'A256GCM' }, { alg: 'A256GCMKW', enc: 'A256GCM' }, { alg: 'ECDH-ES', enc: 'A256GCM' }, { alg: 'ECDH-ES+A256KW', enc: 'A256GCM' },
    { alg: 'none', enc: 'A256GCM' }, { alg: 'rsa-oaep-256', enc: 'A256GCM' }, { enc: 'A256GCM' }, { alg: ['RSA-OAEP-256'], enc: 'A256GCM' }
  ]) {
    expectInvalidToken(t, await get(`${segment(header)}.${rest}`), ALG_NOT_ALLOWED)
  }
  for (const enc of [undefined, 'A256KW', 'a256gcm', 7]) {
    expectInvalidToken(t, await get(`${segment({ alg: 'RSA-OAEP-256', enc })}.${rest}`), 'token content encryption algorithm (enc) not allowed')
  }
})

t.test('malformed compact JWE: 401 jwe_malformed', async (t) => {
  const { issuer, get } = await api(t, { keys: [{ privateKey: rsa.privateKey }] })
  const good = produceJwe(await issuer.token(), rsa.publicKey).split('.')
  const MALFORMED = 'encrypted access token is not a well-formed compact JWE'
  for (const bad of [
    ['', ...good.slice(1)], [good[0], '', ...good.slice(2)], [...good.slice(0, 4), ''], [good[0], good[1], good[2], `${good[3] as string}+`, good[4]],
    [segment('null'), ...good.slice(1)], [segment([1]), ...good.slice(1)], ['e30', ...good.slice(1)].map((s, i) => i === 0 ? `${s}x` : s),
    [Buffer.from([0xff, 0xfe]).toString('base64url'), ...good.slice(1)]
  ]) {
    expectInvalidToken(t, await get(bad.join('.')), MALFORMED)
  }
  // A last character with unused bits set: the same bytes spelled another way.
  const tag = good[4] as string
  const respelled = tag.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(tag.at(-1) as string) | 3]
  if (respelled !== tag) expectInvalidToken(t, await get([...good.slice(0, 4), respelled].join('.')), MALFORMED)
})

t.test('the content must be a signed JWT verified as any token', async (t) => {
  const { issuer, get } = await api(t, { keys: [{ privateKey: rsa.privateKey }] })
  const claims = claimsFor(issuer.issuer, AUDIENCE)
  const NOT_SIGNED = 'encrypted access token does not hold a signed JWT'
  expectInvalidToken(t, await get(produceJwe(JSON.stringify(claims), rsa.publicKey)), NOT_SIGNED)
  expectInvalidToken(t, await get(produceJwe(produceJwe(await issuer.token(), rsa.publicKey), rsa.publicKey)), NOT_SIGNED)
  expectInvalidToken(t, await get(produceJwe(Buffer.from([0x61, 0x2e, 0xff, 0x2e, 0x63]), rsa.publicKey)), NOT_SIGNED)
  expectInvalidToken(t, await get(produceJwe('a.b.c.d', rsa.publicKey)), NOT_SIGNED)
  // Encryption is not authentication: anyone can encrypt to the API's public key.
  expectInvalidToken(t, await get(produceJwe(`${segment({ alg: 'none' })}.${segment(claims)}.`, rsa.publicKey)), 'access token is not a well-formed compact JWS')
  expectInvalidToken(t, await get(produceJwe(`${segment({ alg: 'none' })}.${segment(claims)}.c2ln`, rsa.publicKey)), 'token algorithm not allowed')
  const foreign = await issuer.foreignKey()
  expectInvalidToken(t, await get(produceJwe(await issuer.token({}, { signingKey: foreign.privateKey }), rsa.publicKey)), 'signature verification failed')
  expectInvalidToken(t, await get(produceJwe(await issuer.token({}, { signingKey: foreign.privateKey, header: { kid: foreign.kid } }), rsa.publicKey)), 'no matching signing key')
  expectInvalidToken(t, await get(produceJwe(await issuer.token({ aud: 'https://other.example/' }), rsa.publicKey)), 'unexpected aud claim value')
  expectInvalidToken(t, await get(produceJwe(await issuer.token({}, { expiresIn: -60 }), rsa.publicKey)), 'token expired')
  expectInvalidToken(t, await get(produceJwe(await issuer.token({ iss: 'https://evil.example/' }), rsa.publicKey)), 'issuer not allowed')
})

t.test('required: plain JWS refused; without decryption a JWE keeps its "encrypted" 401', async (t) => {
  const required = await api(t, { keys: [{ privateKey: rsa.privateKey }], required: true })
  expectInvalidToken(t, await required.get(await required.issuer.token()), 'access token must be encrypted (JWE)')
  expectInvalidToken(t, await required.get('opaque-token'), 'access token must be encrypted (JWE)')
  t.equal((await required.get(produceJwe(await required.issuer.token(), rsa.publicKey))).statusCode, 200)
  const optional = await api(t, { keys: [{ privateKey: rsa.privateKey }] })
  t.equal((await optional.get(await optional.issuer.token())).statusCode, 200, 'plain JWS still accepted when not required')
  // Six segments or more: not a JWE, so not decrypted; refused as a JWS would be.
  expectInvalidToken(t, await optional.get(`${produceJwe(await optional.issuer.token(), rsa.publicKey)}.x`), 'not a JWT access token (opaque or encrypted); did the client request an audience?')
  const none = await api(t, undefined)
  expectInvalidToken(t, await none.get(produceJwe(await none.issuer.token(), rsa.publicKey)), 'not a JWT access token (opaque or encrypted); did the client request an audience?')
})

t.test('oversize tokens are refused before decoding, encrypted or not', async (t) => {
  const { issuer, get } = await api(t, { keys: [{ privateKey: rsa.privateKey }] }, { maxTokenLength: 1024 })
  const token = produceJwe(await issuer.token({ pad: 'x'.repeat(1200) }), rsa.publicKey)
  t.ok(token.length > 1024)
  expectInvalidToken(t, await get(token), 'access token too large')
})

t.test('DPoP: ath is computed over the token as sent (the JWE), the binding inside is checked', async (t) => {
  const { issuer, app } = await api(t, { keys: [{ privateKey: rsa.privateKey }] })
  const key = await dpopKey()
  const inner = await issuer.token({}, { dpopKey: key })
  const token = produceJwe(inner, rsa.publicKey)
  const url = 'http://localhost:80/dpop'
  const send = async (headers: Record<string, string>): Promise<LightMyRequestResponse> => await app.inject({ url: '/dpop', headers: { host: 'localhost:80', ...headers } })
  const ok = await send({ authorization: `DPoP ${token}`, dpop: await proof({ key, url, accessToken: token }) })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { jkt: key.jkt })
  const athOfInner = await send({ authorization: `DPoP ${token}`, dpop: await proof({ key, url, accessToken: inner }) })
  expectError(t, athOfInner, { status: 401, error: 'invalid_dpop_proof', description: 'DPoP proof ath does not match the access token', challenge: dpopOnlyChallenge('invalid_dpop_proof', 'DPoP proof ath does not match the access token') })
  const otherKey = await dpopKey()
  const wrongKey = await send({ authorization: `DPoP ${token}`, dpop: await proof({ key: otherKey, url, accessToken: token }) })
  t.equal(wrongKey.statusCode, 401)
  t.equal(wrongKey.json().detail.error, 'invalid_token')
  t.equal(createHash('sha256').update(token).digest('base64url').length, 43)
})

t.test('verified results are cached under the token as sent (the third request reuses the claims)', async (t) => {
  const { issuer, get, seen } = await api(t, { keys: [{ privateKey: rsa.privateKey }] })
  const token = produceJwe(await issuer.token(), rsa.publicKey)
  for (let i = 0; i < 3; i++) t.equal((await get(token)).statusCode, 200)
  t.not(seen[0], seen[1])
  t.equal(seen[2], seen[1], 'from the cache')
  // Another encryption of the same inner token is another token: verified in full.
  t.equal((await get(produceJwe(await issuer.token(), rsa.publicKey))).statusCode, 200)
  t.not(seen[3], seen[2])
})

const startupCases: Array<[string, unknown, RegExp]> = [
  ['not an object', 'key', /decryption must be an options object \(\{ keys: \[\{ privateKey, kid\? \}\], algorithms\?, encryption\?, required\? \}\) \(got string\)/],
  ['no keys', {}, /decryption.keys must be a non-empty array/],
  ['empty keys', { keys: [] }, /decryption.keys must be a non-empty array/],
  ['unknown member', { keys: [{ privateKey: rsa.privateKeyPem }], require: true }, /decryption.require is not an option/],
  ['entry without privateKey', { keys: [{ key: rsa.privateKeyPem }] }, /decryption.keys\[0\] must be \{ privateKey, kid\? \}/],
  ['entry with an unknown member', { keys: [{ privateKey: rsa.privateKeyPem, alg: 'RSA-OAEP-256' }] }, /decryption.keys\[0\].alg is not an option/],
  ['a public key', { keys: [{ privateKey: rsa.publicKeyPem }] }, /decryption.keys\[0\].privateKey must be an RSA private key/],
  ['garbage', { keys: [{ privateKey: 'not a pem' }] }, /decryption.keys\[0\].privateKey must be an RSA private key: a PEM string, a JWK, a KeyObject or a CryptoKey/],
  ['a number', { keys: [{ privateKey: 5 }] }, /decryption.keys\[0\].privateKey must be an RSA private key: a PEM/],
  ['an EC key', { keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }] }, /must be an RSA private key \(got a private ec key\)/],
  ['a secret key', { keys: [{ privateKey: { kty: 'oct', k: 'AAAA' } }] }, /decryption.keys\[0\].privateKey must be an RSA private key/],
  ['a secret KeyObject', { keys: [{ privateKey: createSecretKey(Buffer.alloc(32)) }] }, /decryption.keys\[0\].privateKey must be an RSA private key \(got a secret secret key\)/],
  ['an RSA public KeyObject', { keys: [{ privateKey: rsa.publicKey }] }, /decryption.keys\[0\].privateKey must be an RSA private key \(got a public rsa key\)/],
  ['an RSA-PSS key', { keys: [{ privateKey: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey }] }, /must be an RSA private key \(got a private rsa-pss key\)/],
  ['a 1024-bit key', { keys: [{ privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey }] }, /decryption.keys\[0\].privateKey is a 1024-bit RSA key: at least 2048 bits/],
  ['an empty kid', { keys: [{ privateKey: rsa.privateKey, kid: '' }] }, /decryption.keys\[0\].kid must be a non-empty string/],
  ['a duplicate kid', { keys: [{ privateKey: rsa.privateKey, kid: 'a' }, { privateKey: other.privateKey, kid: 'a' }] }, /decryption.keys\[1\].kid "a" is used twice/],
  ['two keys without kid', { keys: [{ privateKey: rsa.privateKey }, { privateKey: other.privateKey }] }, /decryption.keys\[1\]: only one key may go without a kid/],
  ['RSA1_5', { keys: [{ privateKey: rsa.privateKey }], algorithms: ['RSA1_5'] }, /decryption.algorithms contains unsupported algorithm "RSA1_5" \(supported: RSA-OAEP-256, RSA-OAEP-384, RSA-OAEP-512\)/],
  ['dir', { keys: [{ privateKey: rsa.privateKey }], algorithms: ['dir'] }, /decryption.algorithms contains unsupported algorithm "dir"/],
  ['empty algorithms', { keys: [{ privateKey: rsa.privateKey }], algorithms: [] }, /decryption.algorithms must be a non-empty array/],
  ['a key wrap enc', { keys: [{ privateKey: rsa.privateKey }], encryption: ['A256KW'] }, /decryption.encryption contains unsupported algorithm "A256KW"/],
  ['required not a boolean', { keys: [{ privateKey: rsa.privateKey }], required: 'yes' }, /decryption.required must be true or false/]
]

t.test('start-up errors name the option', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => await issuer.close())
  for (const [name, decryption, message] of startupCases) {
    const app = Fastify()
    const err = await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, decryption: decryption as DecryptionOptions }).ready().then(() => undefined, (e: Error) => e)
    await app.close().catch(() => {})
    t.match(err?.message, message, name)
    t.match(err?.message, /^fastify-auth0-api: /, `${name}: prefixed`)
  }
})

export type { DecryptionKeyPair }

t.test('the resolvers refuse a wrong type on their own too (when called before the option check)', async (t) => {
  t.throws(() => resolveDecryption('key'), new Error('fastify-auth0-api: decryption must be { keys: [{ privateKey, kid? }], algorithms?, encryption?, required? }'))
  t.throws(() => resolveSecret(42, undefined), new Error('fastify-auth0-api: secret must be a string (used as its UTF-8 bytes) or a Buffer / Uint8Array'))
})
