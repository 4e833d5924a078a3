/**
 * Every check of the DPoP proof (RFC 9449 §4.3), through a real app: each negative case asserts the
 * status, the body and the exact WWW-Authenticate line (allowed mode: Bearer and DPoP challenges).
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from 'jose'
import { dpopKey, proof } from '../../lib/testing/index.js'
import { body, dpopChallenge, dpopHarness, ORIGIN, type Asserts } from './helpers.js'
import { expectGrammar } from '../helpers/expect.js'

const h = await dpopHarness(t)
const token = await h.boundToken()
const now = (): number => Math.floor(Date.now() / 1000)
// Rounded up: "31 s ahead" stays more than 30 s ahead however long the request takes (up to 1 s).
const ahead = (seconds: number): number => Math.ceil(Date.now() / 1000) + seconds

/** Sends `proofValue` with the bound token to GET /private and expects a 401 invalid_dpop_proof. */
async function refused (t: Asserts, proofValue: string, description: string): Promise<void> {
  const res = await h.send({ path: '/private', token, proof: proofValue })
  t.equal(res.statusCode, 401, 'status')
  t.same(res.json(), body('invalid_dpop_proof', description), 'body')
  t.equal(res.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', description), 'challenge')
  expectGrammar(t, res)
  t.equal(res.headers['dpop-nonce'], undefined, 'no nonce when nonces are off')
}

t.test('a valid proof with a bound token is accepted', async (t) => {
  const res = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private') })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'test-user', auth: { scheme: 'dpop', token, jkt: h.key.jkt } }, 'request.auth carries scheme, token and jkt')
  t.equal(res.headers['www-authenticate'], undefined)
  expectGrammar(t, res)
  t.equal(res.headers['dpop-nonce'], undefined)
})

t.test('POST: htm POST accepted, and the scheme name is case-insensitive', async (t) => {
  const res = await h.send({ method: 'POST', path: '/private', scheme: 'dpop', token, proof: await h.proofFor(token, '/private', { method: 'POST' }) })
  t.equal(res.statusCode, 200)
})

t.test('structure and header', async (t) => {
  const good = await h.proofFor(token, '/private')
  const [hd, pl, sig] = good.split('.') as [string, string, string]
  await t.test('not three segments', async (t) => refused(t, `${hd}.${pl}`, 'DPoP proof is not a compact JWS with JSON header and payload'))
  await t.test('header not JSON', async (t) => refused(t, `${Buffer.from('{"typ"').toString('base64url')}.${pl}.${sig}`, 'DPoP proof is not a compact JWS with JSON header and payload'))
  await t.test('payload a JSON array', async (t) => refused(t, `${hd}.${Buffer.from('[1]').toString('base64url')}.${sig}`, 'DPoP proof is not a compact JWS with JSON header and payload'))
  await t.test('segment of impossible length', async (t) => refused(t, `${hd}.${pl.slice(0, 4 * Math.floor(pl.length / 4))}A.${sig}`, 'DPoP proof is not a compact JWS with JSON header and payload'))
  await t.test('padded signature', async (t) => refused(t, `${hd}.${pl}.${sig}==`, 'DPoP proof is not a compact JWS with JSON header and payload'))
  await t.test('empty signature', async (t) => refused(t, `${hd}.${pl}.`, 'DPoP proof is not a compact JWS with JSON header and payload'))
  await t.test('too large', async (t) => refused(t, 'a'.repeat(8193), 'DPoP proof too large'))
  await t.test('typ jwt', async (t) => refused(t, await h.proofFor(token, '/private', { header: { typ: 'jwt' } }), 'DPoP proof typ must be dpop+jwt'))
  await t.test('typ in upper case', async (t) => refused(t, await h.proofFor(token, '/private', { header: { typ: 'DPOP+JWT' } }), 'DPoP proof typ must be dpop+jwt'))
  await t.test('typ missing', async (t) => refused(t, await h.proofFor(token, '/private', { header: { typ: undefined } }), 'DPoP proof typ must be dpop+jwt'))
  await t.test('alg outside the allowlist (ES384 key, ES256 only)', async (t) => {
    const es384 = await dpopKey('ES384')
    await refused(t, await proof({ key: es384, url: `${ORIGIN}/private`, accessToken: token }), 'DPoP proof algorithm not allowed')
  })
  await t.test('alg none', async (t) => {
    const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: h.key.publicJwk })).toString('base64url')
    await refused(t, `${header}.${pl}.${sig}`, 'DPoP proof algorithm not allowed')
  })
  await t.test('alg HS256', async (t) => {
    const secret = new Uint8Array(32)
    const hs = await new SignJWT({ jti: 'x', htm: 'GET', htu: `${ORIGIN}/private`, iat: now() })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } as unknown as JWK }).sign(secret)
    await refused(t, hs, 'DPoP proof algorithm not allowed')
  })
  await t.test('crit header', async (t) => {
    // Refused before any signature check, so the original signature can stay.
    const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: h.key.publicJwk, crit: ['exp'], exp: 1 })).toString('base64url')
    await refused(t, `${header}.${pl}.${sig}`, 'DPoP proof crit header not supported')
  })
  await t.test('jwk missing', async (t) => refused(t, await h.proofFor(token, '/private', { header: { jwk: undefined } }), 'DPoP proof jwk header missing or not a JSON object'))
  await t.test('jwk a string', async (t) => refused(t, await h.proofFor(token, '/private', { header: { jwk: 'key' } }), 'DPoP proof jwk header missing or not a JSON object'))
  await t.test('private key in jwk', async (t) => refused(t, await h.proofFor(token, '/private', { header: { jwk: h.key.privateJwk } }), 'DPoP proof jwk contains private key material'))
  await t.test('jwk of another curve', async (t) => {
    const p384 = await dpopKey('ES384')
    await refused(t, await h.proofFor(token, '/private', { header: { jwk: p384.publicJwk } }), 'DPoP proof jwk does not match the proof algorithm')
  })
  await t.test('RSA jwk with ES256', async (t) => {
    const rsa = await dpopKey('RS256')
    await refused(t, await h.proofFor(token, '/private', { header: { jwk: rsa.publicJwk } }), 'DPoP proof jwk does not match the proof algorithm')
  })
  await t.test('jwk "alg" other than the proof alg', async (t) => {
    await refused(t, await h.proofFor(token, '/private', { header: { jwk: { ...h.key.publicJwk, alg: 'ES384' } } }), 'DPoP proof jwk does not match the proof algorithm')
  })
})

t.test('claims', async (t) => {
  await t.test('jti missing', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { jti: undefined } }), 'DPoP proof jti must be a non-empty string'))
  await t.test('jti empty', async (t) => refused(t, await h.proofFor(token, '/private', { jti: '' }), 'DPoP proof jti must be a non-empty string'))
  await t.test('jti a number', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { jti: 42 } }), 'DPoP proof jti must be a non-empty string'))
  await t.test('jti of 257 characters', async (t) => refused(t, await h.proofFor(token, '/private', { jti: 'j'.repeat(257) }), 'DPoP proof jti too long'))
  await t.test('jti of 256 characters is fine', async (t) => {
    const res = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { jti: 'j'.repeat(256) }) })
    t.equal(res.statusCode, 200)
  })
  await t.test('htm missing', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { htm: undefined } }), 'DPoP proof htm missing'))
  await t.test('htm in lower case', async (t) => refused(t, await h.proofFor(token, '/private', { method: 'get' }), 'DPoP proof htm does not match the request method'))
  await t.test('htm POST on a GET', async (t) => refused(t, await h.proofFor(token, '/private', { method: 'POST' }), 'DPoP proof htm does not match the request method'))
  await t.test('htu missing', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { htu: undefined } }), 'DPoP proof htu missing'))
  await t.test('htu not a URL', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { htu: '/private' } }), 'DPoP proof htu is not an absolute http(s) URL'))
  await t.test('htu another scheme', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { htu: 'https://api.example.com/private' } }), 'DPoP proof htu does not match the request URL'))
  await t.test('htu another host', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { htu: 'http://evil.example.com/private' } }), 'DPoP proof htu does not match the request URL'))
  await t.test('htu another path', async (t) => refused(t, await h.proofFor(token, '/admin'), 'DPoP proof htu does not match the request URL'))
  await t.test('htu another port', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { htu: 'http://api.example.com:8080/private' } }), 'DPoP proof htu does not match the request URL'))
  await t.test('htu path differs in case', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { htu: 'http://api.example.com/PRIVATE' } }), 'DPoP proof htu does not match the request URL'))
  await t.test('htu with a trailing slash the request does not have', async (t) => refused(t, await h.proofFor(token, '/private/'), 'DPoP proof htu does not match the request URL'))
  await t.test('htu without the trailing slash the request has', async (t) => {
    const res = await h.send({ path: '/dir/', token, proof: await h.proofFor(token, '/dir') })
    t.equal(res.statusCode, 401)
    t.same(res.json(), body('invalid_dpop_proof', 'DPoP proof htu does not match the request URL'))
    t.equal(res.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof htu does not match the request URL'))
    expectGrammar(t, res)
  })
  await t.test('htu with userinfo', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { htu: 'http://user@api.example.com/private' } }), 'DPoP proof htu is not an absolute http(s) URL'))
  await t.test('iat missing', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { iat: undefined } }), 'DPoP proof iat missing or not a number'))
  await t.test('iat a string', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { iat: String(now()) } }), 'DPoP proof iat missing or not a number'))
  await t.test('iat 301 s old', async (t) => refused(t, await h.proofFor(token, '/private', { iat: now() - 301 }), 'DPoP proof iat too old'))
  await t.test('iat 31 s ahead', async (t) => refused(t, await h.proofFor(token, '/private', { iat: ahead(31) }), 'DPoP proof iat in the future'))
  await t.test('iat 295 s old and 25 s ahead are inside the window', async (t) => {
    for (const iat of [now() - 295, now() + 25]) {
      const res = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { iat }) })
      t.equal(res.statusCode, 200, `iat now${iat - now()}`)
    }
  })
  await t.test('ath missing', async (t) => refused(t, await proof({ key: h.key, url: `${ORIGIN}/private` }), 'DPoP proof ath missing'))
  await t.test('ath of another token', async (t) => refused(t, await h.proofFor(await h.boundToken({ sub: 'other' }), '/private'), 'DPoP proof ath does not match the access token'))
})

t.test('signature and key (checked after the token)', async (t) => {
  await t.test('proof signed by a key other than its jwk', async (t) => {
    const other = await dpopKey()
    // Signed by `other`, embedding h.key's public JWK (which the token is bound to).
    const forged = await proof({ key: { ...other, publicJwk: h.key.publicJwk }, url: `${ORIGIN}/private`, accessToken: token })
    await refused(t, forged, 'DPoP proof signature verification failed')
  })
  await t.test('signature bytes altered', async (t) => {
    const good = await h.proofFor(token, '/private')
    const sig = good.split('.')[2] as string
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)
    await refused(t, good.slice(0, good.lastIndexOf('.') + 1) + flipped, 'DPoP proof signature verification failed')
  })
  await t.test('proof with an expired exp', async (t) => refused(t, await h.proofFor(token, '/private', { claims: { exp: now() - 10 } }), 'DPoP proof expired (exp)'))
  await t.test('jwk that is not a point on the curve', async (t) => {
    const jwk = { ...h.key.publicJwk, y: h.key.publicJwk.x }
    await refused(t, await h.proofFor(token, '/private', { header: { jwk } }), 'DPoP proof could not be verified with its jwk')
  })
  await t.test('jwk with use "enc"', async (t) => refused(t, await h.proofFor(token, '/private', { header: { jwk: { ...h.key.publicJwk, use: 'enc' } } }), 'DPoP proof could not be verified with its jwk'))
})

t.test('configurable algorithms: PS256 and EdDSA proofs, advertised in algs=', async (t) => {
  const app = await dpopHarness(t, { dpop: { algorithms: ['PS256', 'EdDSA'] } })
  for (const alg of ['PS256', 'EdDSA']) {
    const key = await dpopKey(alg)
    const bound = await app.boundToken({}, key)
    const res = await app.send({ path: '/private', token: bound, proof: await proof({ key, url: `${ORIGIN}/private`, accessToken: bound }) })
    t.equal(res.statusCode, 200, alg)
    t.equal(res.json().auth.jkt, key.jkt)
  }
  const es = await app.boundToken()
  const res = await app.send({ path: '/private', token: es, proof: await app.proofFor(es, '/private') })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof algorithm not allowed', 'PS256 EdDSA'))
  expectGrammar(t, res)
})

t.test('RSA proof key below 2048 bits is refused by jose', async (t) => {
  const app = await dpopHarness(t, { dpop: { algorithms: ['RS256'] } })
  // jose will not generate (nor sign with) a short RSA key: WebCrypto does both here.
  const { privateKey, publicKey } = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])
  const publicJwk = await exportJWK(publicKey)
  const bound = await app.issuer.token({}, { dpopKey: { jkt: await calculateJwkThumbprint(publicJwk) } })
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const ath = createHash('sha256').update(bound).digest('base64url')
  const input = `${encode({ typ: 'dpop+jwt', alg: 'RS256', jwk: publicJwk })}.${encode({ jti: 'small-key', htm: 'GET', htu: `${ORIGIN}/private`, iat: now(), ath })}`
  const signature = Buffer.from(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', privateKey, Buffer.from(input))).toString('base64url')
  const res = await app.send({ path: '/private', token: bound, proof: `${input}.${signature}` })
  t.equal(res.statusCode, 401)
  t.same(res.json(), body('invalid_dpop_proof', 'DPoP proof could not be verified with its jwk'))
  t.equal(res.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof could not be verified with its jwk', 'RS256'))
  expectGrammar(t, res)
})
