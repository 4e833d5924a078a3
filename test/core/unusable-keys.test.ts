/**
 * Issue 12: an issuer key jose refuses (an RSA key under 2048 bits, a private key published by
 * mistake) named by a token's `kid` is the token's problem, not the server's: 401 `invalid_token`
 * with reason `key_unusable`, never a 500. The operator hears of it once per key (a warning log
 * line and a `key_unusable` key-set event), not once per request.
 * The real test issuer publishes the key; tokens are signed with it by node:crypto / WebCrypto.
 */
import { Writable } from 'node:stream'
import { generateKeyPairSync, webcrypto } from 'node:crypto'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import auth0Plugin, { type AuthError, type KeySetEvent } from '../../lib/index.js'
import { createTestIssuer, dpopKey, proof, type TestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { expectError, expectInvalidToken, oracleEveryReply } from '../helpers/expect.js'
import { claimsFor, signRaw } from '../helpers/jws.js'
import type { CryptoKey, JWK } from 'jose'

const DESCRIPTION = 'signing key unusable: the issuer published a key that cannot verify tokens'

interface LogLine { level: number, msg: string, kid?: string, issuer?: string, reason?: string }

async function setup (t: Test, algorithms = ['RS256']): Promise<{ app: ReturnType<typeof Fastify>, issuer: TestIssuer, lines: () => LogLine[], events: KeySetEvent[], reasons: string[] }> {
  const raw: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, callback) { raw.push(chunk.toString()); callback() } })
  const issuer = await createTestIssuer()
  const events: KeySetEvent[] = []
  const reasons: string[] = []
  const app = Fastify({ logger: { level: 'info', stream } })
  oracleEveryReply(app, t)
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, algorithms, onKeySetEvent: (event) => { events.push(event) }, onAuthError: (error: AuthError) => { reasons.push(error.reason) } })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await issuer.close()
  })
  return { app, issuer, events, reasons, lines: () => raw.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogLine) }
}

/** An RSA key pair of `bits`, the public half as a JWK with `kid`, the private one as a CryptoKey. */
async function rsaKey (bits: number, kid: string): Promise<{ jwk: JWK, privateKey: CryptoKey }> {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits })
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } as JWK
  const privateKey = await webcrypto.subtle.importKey('jwk', pair.privateKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign'])
  return { jwk, privateKey: privateKey as CryptoKey }
}

t.test('a 1024-bit RSA key in the JWKS: 401 key_unusable for each token naming it, one warning per key', async (t) => {
  const { app, issuer, lines, events } = await setup(t)
  const weak = await rsaKey(1024, 'weak-1024')
  issuer.publishKey(weak.jwk)
  const token = async (): Promise<string> => await signRaw({ alg: 'RS256', kid: 'weak-1024', typ: 'JWT' }, claimsFor(issuer.issuer, AUDIENCE), weak.privateKey)

  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await token()}` } })
    expectInvalidToken(t, res, DESCRIPTION)
  }
  // The issuer's good key still verifies, before and after.
  t.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}` } })).statusCode, 200)

  const warnings = lines().filter((l) => l.level === 40 && l.msg.includes('key_unusable'))
  t.equal(warnings.length, 1, 'one warning for the key, not one per request')
  t.match(warnings[0], { kid: 'weak-1024', issuer: issuer.issuer, reason: 'RSA key under 2048 bits' })
  t.notOk(lines().some((l) => l.level >= 50), 'nothing logged as an error (no 500)')
  t.same(events.filter((e) => e.type === 'key_unusable'), [{ type: 'key_unusable', issuer: issuer.issuer, kid: 'weak-1024', alg: 'RS256', reason: 'RSA key under 2048 bits' }])
})

t.test('a second weak key is warned about once too; a 2048-bit one verifies', async (t) => {
  const { app, issuer, lines } = await setup(t)
  const a = await rsaKey(1024, 'weak-a')
  const b = await rsaKey(1536, 'weak-b')
  const ok = await rsaKey(2048, 'ok-2048')
  for (const key of [a, b, ok]) issuer.publishKey(key.jwk)
  for (let i = 0; i < 3; i++) {
    for (const [key, kid] of [[a, 'weak-a'], [b, 'weak-b']] as const) {
      const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await signRaw({ alg: 'RS256', kid }, claimsFor(issuer.issuer, AUDIENCE), key.privateKey)}` } })
      expectInvalidToken(t, res, DESCRIPTION)
    }
  }
  const good = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await signRaw({ alg: 'RS256', kid: 'ok-2048' }, claimsFor(issuer.issuer, AUDIENCE), ok.privateKey)}` } })
  t.equal(good.statusCode, 200)
  t.same(lines().filter((l) => l.level === 40 && l.msg.includes('key_unusable')).map((l) => l.kid).sort(), ['weak-a', 'weak-b'])
})

t.test('a key WebCrypto cannot import (an EC point off the curve): 401 key_unusable, one warning', async (t) => {
  const { app, issuer, lines, events } = await setup(t, ['RS256', 'ES256'])
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  // x and y of another point: the JWK is well-formed but not a point of P-256.
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), y: Buffer.alloc(32, 7).toString('base64url'), kid: 'off-curve', alg: 'ES256', use: 'sig' } as JWK
  issuer.publishKey(jwk)
  const privateKey = await webcrypto.subtle.importKey('jwk', pair.privateKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']) as CryptoKey
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await signRaw({ alg: 'ES256', kid: 'off-curve' }, claimsFor(issuer.issuer, AUDIENCE), privateKey, 'ES256')}` } })
    expectInvalidToken(t, res, DESCRIPTION)
  }
  const warnings = lines().filter((l) => l.level === 40 && l.msg.includes('key_unusable'))
  t.equal(warnings.length, 1)
  t.match(warnings[0], { kid: 'off-curve', reason: /^key import failed: / })
  t.equal(events.filter((e) => e.type === 'key_unusable').length, 1)
  t.notOk(lines().some((l) => l.level >= 50), 'nothing logged as an error (no 500)')
})

t.test('a static key set (jwks option): a token without kid selecting a weak key; warnings stay bounded', async (t) => {
  const issuer = 'https://tenant.example.com/'
  const weak = await rsaKey(1024, 'unused')
  const one = Fastify()
  oracleEveryReply(one, t)
  const kidless = { ...weak.jwk }
  delete kidless.kid
  const seen: KeySetEvent[] = []
  await one.register(auth0Plugin, { issuerBaseURL: issuer, audience: AUDIENCE, env: {}, jwks: { keys: [kidless] }, onKeySetEvent: (e) => { seen.push(e) } })
  one.get('/private', { preHandler: one.requireAuth() }, async () => ({}))
  t.teardown(async () => await one.close())
  for (let i = 0; i < 2; i++) {
    expectInvalidToken(t, await one.inject({ url: '/private', headers: { authorization: `Bearer ${await signRaw({ alg: 'RS256' }, claimsFor(issuer, AUDIENCE), weak.privateKey)}` } }), DESCRIPTION)
  }
  t.same(seen, [{ type: 'key_unusable', issuer, kid: undefined, alg: 'RS256', reason: 'RSA key under 2048 bits' }])

  // 120 kids of weak keys: at most 100 warnings for one issuer (a bound, not a per-request log).
  const many = Fastify()
  oracleEveryReply(many, t)
  const events: KeySetEvent[] = []
  const keys = Array.from({ length: 120 }, (_, i) => ({ ...weak.jwk, kid: `k${i}` }))
  await many.register(auth0Plugin, { issuerBaseURL: issuer, audience: AUDIENCE, env: {}, jwks: { keys }, onKeySetEvent: (e) => { events.push(e) } })
  many.get('/private', { preHandler: many.requireAuth() }, async () => ({}))
  t.teardown(async () => await many.close())
  for (const key of keys) {
    const res = await many.inject({ url: '/private', headers: { authorization: `Bearer ${await signRaw({ alg: 'RS256', kid: key.kid }, claimsFor(issuer, AUDIENCE), weak.privateKey)}` } })
    t.equal(res.statusCode, 401)
  }
  t.equal(events.length, 100)
})

t.test('the key check: public verification keys of 2048 bits or more pass', async (t) => {
  const { unusableKey } = await import('../../lib/jwt/token-verifier.js')
  const rsa = async (bits: number, usages: webcrypto.KeyUsage[] = ['verify']): Promise<CryptoKey> => {
    const pair = generateKeyPairSync('rsa', { modulusLength: bits })
    return await webcrypto.subtle.importKey('jwk', pair.publicKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey, { name: 'RSA-PSS', hash: 'SHA-256' }, false, usages) as CryptoKey
  }
  t.equal(unusableKey(await rsa(2048)), undefined)
  t.equal(unusableKey(await rsa(1024)), 'RSA key under 2048 bits')
  t.equal(unusableKey(await rsa(2048, [])), 'not a public verification key')
  const ec = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  t.equal(unusableKey(ec.publicKey as CryptoKey), undefined)
  t.equal(unusableKey(ec.privateKey as CryptoKey), 'not a public verification key')
  // A verification key that is not public: a shared secret is not an issuer's signing key.
  const secret = await webcrypto.subtle.importKey('raw', Buffer.alloc(32, 1), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']) as CryptoKey
  t.equal(unusableKey(secret), 'not a public verification key')
})

t.test('key_unusable is the reason, and under DPoP the error is on the DPoP challenge (weak key, key that does not import)', async (t) => {
  const { app, issuer, reasons } = await setup(t, ['RS256', 'ES256'])
  const weak = await rsaKey(1024, 'weak-1024')
  issuer.publishKey(weak.jwk)
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  issuer.publishKey({ ...pair.publicKey.export({ format: 'jwk' }), y: Buffer.alloc(32, 7).toString('base64url'), kid: 'off-curve', alg: 'ES256', use: 'sig' } as JWK)
  const offCurve = await webcrypto.subtle.importKey('jwk', pair.privateKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']) as CryptoKey
  const key = await dpopKey()
  const claims = claimsFor(issuer.issuer, AUDIENCE, { cnf: { jkt: key.jkt } })
  for (const token of [await signRaw({ alg: 'RS256', kid: 'weak-1024' }, claims, weak.privateKey), await signRaw({ alg: 'ES256', kid: 'off-curve' }, claims, offCurve, 'ES256')]) {
    for (let i = 0; i < 2; i++) {
      reasons.length = 0
      const res = await app.inject({ url: '/private', headers: { host: 'api.example.com', authorization: `DPoP ${token}`, dpop: await proof({ key, url: 'http://api.example.com/private', accessToken: token }) } })
      expectError(t, res, { status: 401, error: 'invalid_token', description: DESCRIPTION, challenge: `Bearer realm="api", DPoP error="invalid_token", error_description="${DESCRIPTION}", algs="ES256"` })
      t.strictSame(reasons, ['key_unusable'])
    }
  }
})
