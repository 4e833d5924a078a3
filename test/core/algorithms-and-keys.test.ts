/**
 * SPEC §3 step 5: the signature must verify with a key from the issuer's JWKS, under an allowed
 * asymmetric algorithm. Attacks: alg `none`, HMAC keyed with the RSA public key, algorithms off
 * the allowlist, unknown or foreign keys, keys or key URLs carried in the token, unknown `crit`.
 */
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createPublicKey, type JsonWebKey } from 'node:crypto'
import type { AuthError } from '../../lib/index.js'
import { dpopKey, proof } from '../../lib/testing/index.js'
import { harness } from '../helpers/app.js'
import { expectError, expectInvalidToken } from '../helpers/expect.js'
import { b64url, claimsFor, segment, signHmac, signRaw } from '../helpers/jws.js'

const AUDIENCE = 'https://api.example.com/'
const NOT_ALLOWED = 'token algorithm not allowed'
const NO_KEY = 'no matching signing key'
const BAD_SIG = 'signature verification failed'

t.test('alg "none" is refused, with or without a signature segment, before any fetch', async (t) => {
  const h = await harness(t)
  const claims = claimsFor(h.issuer.issuer, AUDIENCE)
  for (const alg of ['none', 'None', 'NONE']) {
    const unsigned = `${segment({ alg, typ: 'JWT' })}.${segment(claims)}.`
    expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${unsigned}` } }), 'access token is not a well-formed compact JWS')
    const withSig = `${segment({ alg, typ: 'JWT', kid: h.issuer.currentKey.kid })}.${segment(claims)}.${b64url('sig')}`
    expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${withSig}` } }), NOT_ALLOWED)
  }
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('HS256 signed with the RSA public key as HMAC secret: 401 alg_not_allowed, no fetch', async (t) => {
  const h = await harness(t)
  const key = h.issuer.currentKey
  const publicKey = createPublicKey({ key: key.publicJwk as JsonWebKey, format: 'jwk' })
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string
  t.match(pem, /^-----BEGIN PUBLIC KEY-----\n/, 'PEM form of the published key')
  const secrets: Array<[string, string | Buffer]> = [
    ['SPKI PEM', pem],
    ['SPKI PEM without trailing newline', pem.trimEnd()],
    ['PKCS#1 PEM', publicKey.export({ type: 'pkcs1', format: 'pem' }) as string],
    ['SPKI DER', publicKey.export({ type: 'spki', format: 'der' })],
    ['JWK JSON as published', JSON.stringify(key.publicJwk)],
    ['JWK JSON of n and e only', JSON.stringify({ kty: 'RSA', n: key.publicJwk.n, e: key.publicJwk.e })],
    ['modulus n', key.publicJwk.n as string]
  ]
  const claims = claimsFor(h.issuer.issuer, AUDIENCE)
  for (const [name, secret] of secrets) {
    for (const header of [{ alg: 'HS256', typ: 'JWT', kid: key.kid }, { alg: 'HS256', typ: 'JWT' }, { alg: 'HS512', kid: key.kid }]) {
      const token = signHmac(header, claims, secret)
      const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
      t.test(`${name}, ${JSON.stringify(header)}`, async (t) => expectInvalidToken(t, res, NOT_ALLOWED))
    }
  }
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 }, 'the allowlist check runs before any fetch')
  // Positive control: an RS256 token from the issuer passes on the same app.
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
})

t.test('an algorithm off the allowlist (RS384 when only RS256) is refused before any fetch', async (t) => {
  const h = await harness(t)
  const rs384 = await h.issuer.foreignKey('RS384')
  for (const kid of [h.issuer.currentKey.kid, rs384.kid]) {
    const token = await h.issuer.token({}, { signingKey: rs384.privateKey, header: { alg: 'RS384', kid } })
    expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } }), NOT_ALLOWED)
  }
  const es = await h.issuer.foreignKey('ES256')
  const esToken = await h.issuer.token({}, { signingKey: es.privateKey, header: { alg: 'ES256', kid: h.issuer.currentKey.kid } })
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${esToken}` } }), NOT_ALLOWED)
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('an allowed algorithm that does not match the key type finds no key', async (t) => {
  const h = await harness(t, { algorithms: ['RS256', 'ES256', 'RS384'] })
  const es = await h.issuer.foreignKey('ES256')
  // ES256 header naming the issuer's RSA kid: the RSA key is never used for it.
  const esToken = await h.issuer.token({}, { signingKey: es.privateKey, header: { alg: 'ES256', kid: h.issuer.currentKey.kid } })
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${esToken}` } }), NO_KEY)
  // RS384 header naming a key published with "alg": "RS256".
  const rs384 = await h.issuer.foreignKey('RS384')
  const rsToken = await h.issuer.token({}, { signingKey: rs384.privateKey, header: { alg: 'RS384', kid: h.issuer.currentKey.kid } })
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${rsToken}` } }), NO_KEY)
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 1 }, 'no refetch inside the cooldown')
})

t.test('a foreign key under the issuer\'s kid fails the signature', async (t) => {
  const h = await harness(t)
  const foreign = await h.issuer.foreignKey()
  const token = await h.issuer.token({}, { signingKey: foreign.privateKey })
  t.equal(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid, h.issuer.currentKey.kid)
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } }), BAD_SIG)
})

t.test('unknown kid: 401, and at most one JWKS refetch per cooldown', async (t) => {
  const h = await harness(t, { cache: { cooldown: 2 } })
  const foreign = await h.issuer.foreignKey()
  const unknown = async (kid: string): Promise<string> => await h.issuer.token({}, { signingKey: foreign.privateKey, header: { kid } })

  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 1 })

  // Inside the cooldown that started with the fetch above: no refetch.
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${await unknown('nope-1')}` } }), NO_KEY)
  t.equal(h.issuer.requests.jwks, 1, 'no refetch inside the cooldown')

  await new Promise((resolve) => setTimeout(resolve, 2100))
  // After it: one refetch, shared by concurrent requests, then the cooldown again.
  const tokens = await Promise.all(Array.from({ length: 10 }, async (_, i) => await unknown(`nope-${i + 2}`)))
  const results = await Promise.all(tokens.map(async (token) => await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })))
  for (const res of results) expectInvalidToken(t, res, NO_KEY)
  t.equal(h.issuer.requests.jwks, 2, 'one refetch for ten unknown kids')
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${await unknown('nope-99')}` } }), NO_KEY)
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 2 }, 'no rediscovery for an unknown kid')
})

t.test('unknown kid on a cold app: one fetch, no second one', async (t) => {
  const h = await harness(t)
  const foreign = await h.issuer.foreignKey()
  const token = await h.issuer.token({}, { signingKey: foreign.privateKey, header: { kid: foreign.kid } })
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } }), NO_KEY)
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 1 })
})

t.test('no kid while the JWKS holds two keys for the algorithm: 401 ambiguous', async (t) => {
  const h = await harness(t)
  await h.issuer.rotateKeys({ keepPrevious: true })
  const token = await h.issuer.token({}, { header: { kid: undefined } })
  t.notOk('kid' in JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()))
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } }), 'signing key ambiguous: the token needs a kid')
})

t.test('no kid while the JWKS holds one key: that key verifies', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token({}, { header: { kid: undefined } })
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
})

t.test('jku, x5u, jwk and x5c in the token are ignored: attacker keys never verify', async (t) => {
  const h = await harness(t)
  let attackerHits = 0
  const attacker = await h.issuer.foreignKey()
  const server = createServer((_req, res) => {
    attackerHits++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: [attacker.publicJwk] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
  // A self-signed certificate is not needed: the chain is never looked at. Any base64 DER will do.
  const x5c = [Buffer.from('not a certificate').toString('base64')]

  const headers: Array<Record<string, unknown>> = [
    { jku: url },
    { x5u: url },
    { jwk: attacker.publicJwk },
    { x5c },
    { jku: url, x5u: url, jwk: attacker.publicJwk, x5c }
  ]
  for (const extra of headers) {
    for (const kid of [attacker.kid, h.issuer.currentKey.kid, undefined]) {
      const token = await h.issuer.token({}, { signingKey: attacker.privateKey, header: { ...extra, kid } })
      const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
      const description = kid === attacker.kid ? NO_KEY : BAD_SIG
      t.test(`${Object.keys(extra).join('+')}, kid ${kid === undefined ? 'absent' : kid === attacker.kid ? 'attacker' : 'issuer'}`, async (t) => expectInvalidToken(t, res, description))
    }
  }
  t.equal(attackerHits, 0, 'the attacker URL is never fetched')
  // A token from the real issuer that also carries these headers still verifies: they are ignored, not fatal.
  const honest = await h.issuer.token({}, { header: { jku: url, x5u: url } })
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${honest}` } })).statusCode, 200)
  t.equal(attackerHits, 0)
})

t.test('crit: an unknown extension is refused even with a valid signature; b64=false is refused', async (t) => {
  const h = await harness(t)
  const key = h.issuer.currentKey
  const claims = claimsFor(h.issuer.issuer, AUDIENCE)
  // Positive control: the hand-made signature verifies without crit.
  const plain = await signRaw({ alg: 'RS256', kid: key.kid }, claims, key.privateKey)
  t.equal((await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${plain}` } })).statusCode, 200)

  const crit = await signRaw({ alg: 'RS256', kid: key.kid, crit: ['urn:example:must-understand'], 'urn:example:must-understand': true }, claims, key.privateKey)
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${crit}` } }), 'token uses an unsupported header or algorithm')

  const critMissing = await signRaw({ alg: 'RS256', kid: key.kid, crit: ['exp-ext'] }, claims, key.privateKey)
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${critMissing}` } }), 'token uses an unsupported header or algorithm')

  const critEmpty = await signRaw({ alg: 'RS256', kid: key.kid, crit: [] }, claims, key.privateKey)
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${critEmpty}` } }), 'access token is malformed')

  const unencoded = await signRaw({ alg: 'RS256', kid: key.kid, b64: false, crit: ['b64'] }, claims, key.privateKey)
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${unencoded}` } }), 'access token is malformed')
})

t.test('refusals of the algorithm and key steps: each its reason, and on the DPoP challenge under DPoP', async (t) => {
  const reasons: string[] = []
  const h = await harness(t, { onAuthError: (error: AuthError) => { reasons.push(error.reason) } })
  const key = h.issuer.currentKey
  const dpop = await dpopKey()
  const claims = claimsFor(h.issuer.issuer, AUDIENCE, { cnf: { jkt: dpop.jkt } })
  // A second key, published beside the first: a token without kid is then ambiguous.
  const ambiguous = await harness(t, { onAuthError: (error: AuthError) => { reasons.push(error.reason) } })
  await ambiguous.issuer.rotateKeys({ keepPrevious: true })
  const cases: Array<[string, typeof h, () => Promise<string>, string, string]> = [
    ['alg off the allowlist', h, async () => await signRaw({ alg: 'RS384', kid: key.kid }, claims, key.privateKey), 'alg_not_allowed', NOT_ALLOWED],
    ['unknown kid', h, async () => await signRaw({ alg: 'RS256', kid: 'nobody' }, claims, key.privateKey), 'kid_not_found', NO_KEY],
    ['no kid, two keys', ambiguous, async () => await ambiguous.issuer.token({ cnf: { jkt: dpop.jkt } }, { header: { kid: undefined } }), 'kid_ambiguous', 'signing key ambiguous: the token needs a kid']
  ]
  for (const [name, app, mint, reason, description] of cases) {
    const token = await mint()
    reasons.length = 0
    const bearer = await app.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
    expectInvalidToken(t, bearer, description)
    const res = await app.app.inject({
      url: '/private',
      headers: { host: 'api.example.com', authorization: `DPoP ${token}`, dpop: await proof({ key: dpop, url: 'http://api.example.com/private', accessToken: token }) }
    })
    expectError(t, res, { status: 401, error: 'invalid_token', description, challenge: `Bearer realm="api", DPoP error="invalid_token", error_description="${description}", algs="ES256"` })
    t.strictSame(reasons, [reason, reason], name)
  }
})
