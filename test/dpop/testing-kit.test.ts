/**
 * `fastify-auth0-api/testing` DPoP helpers: keys, bound tokens and proofs are what they claim to be.
 */
import t from 'tap'
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose'
import { createTestIssuer, dpopKey, proof } from '../../lib/testing/index.js'

t.test('dpopKey', async (t) => {
  const key = await dpopKey()
  t.equal(key.alg, 'ES256')
  t.match(key.publicJwk, { kty: 'EC', crv: 'P-256' })
  t.notOk('d' in key.publicJwk, 'public JWK has no private member')
  t.ok(typeof key.privateJwk.d === 'string', 'private JWK has one')
  t.equal(key.jkt, await calculateJwkThumbprint(key.publicJwk))
  t.match((await dpopKey('EdDSA')).publicJwk, { kty: 'OKP', crv: 'Ed25519' })
  t.match((await dpopKey('PS256')).publicJwk, { kty: 'RSA' })
})

t.test('proof', async (t) => {
  const key = await dpopKey()
  const value = await proof({ key, url: 'https://API.example.com:443/a/b?query=1#frag', accessToken: 'token-123', nonce: 'n-1' })
  const { protectedHeader, payload } = await jwtVerify(value, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] })
  t.same(protectedHeader, { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk })
  t.match(payload, { htm: 'GET', htu: 'https://api.example.com/a/b', nonce: 'n-1', ath: 'A0GShF3Eid7KKR-fWuC7jlRyyZECC_ZLPrxt7Fodfkc' }, 'ath = base64url(SHA-256(token)), computed independently')
  t.match(payload.jti, /^[0-9a-f-]{36}$/)
  t.ok(Math.abs((payload.iat as number) - Date.now() / 1000) < 5)

  const bent = await proof({ key, method: 'POST', url: 'http://h/x', jti: 'j', iat: 1, header: { typ: 'jwt', extra: true }, claims: { htu: 'other', jti: undefined, more: 1 } })
  t.same(decodeProtectedHeader(bent), { typ: 'jwt', alg: 'ES256', jwk: key.publicJwk, extra: true })
  t.same(decodeJwt(bent), { htm: 'POST', htu: 'other', iat: 1, more: 1 }, 'no ath without a token, jti removed')
})

t.test('token({ dpopKey }) binds cnf.jkt', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => await issuer.close())
  const key = await dpopKey()
  t.same(decodeJwt(await issuer.token({}, { dpopKey: key })).cnf, { jkt: key.jkt })
  t.same(decodeJwt(await issuer.token({ cnf: { jkt: 'explicit' } }, { dpopKey: key })).cnf, { jkt: 'explicit' }, 'explicit claims win')
  t.notOk('cnf' in decodeJwt(await issuer.token()), 'unbound by default')
})

t.test('refuses NODE_ENV=production', async (t) => {
  const key = await dpopKey()
  const previous = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  t.teardown(() => { process.env.NODE_ENV = previous })
  await t.rejects(dpopKey(), /refuses to run with NODE_ENV=production/)
  await t.rejects(proof({ key, url: 'http://h/' }), /refuses to run with NODE_ENV=production/)
})
