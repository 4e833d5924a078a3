/**
 * The testing kit (`fastify-auth0-api/testing`) the core tests stand on: it must behave like a
 * real issuer and refuse production.
 */
import t from 'tap'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { compactDecrypt, decodeProtectedHeader, decodeJwt, jwtVerify, type JWK } from 'jose'
import { createTestIssuer, decryptionKeyPair, encryptToken } from '../../lib/testing/index.js'

t.test('refuses to start with NODE_ENV=production', async (t) => {
  const saved = process.env.NODE_ENV
  t.teardown(() => { if (saved === undefined) Reflect.deleteProperty(process.env, 'NODE_ENV'); else process.env.NODE_ENV = saved })
  process.env.NODE_ENV = 'production'
  await t.rejects(createTestIssuer(), new Error('fastify-auth0-api/testing refuses to run with NODE_ENV=production: it mints tokens for tests only'))
})

t.test('serves discovery and JWKS, 404 elsewhere, on the port asked for', async (t) => {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  const issuer = await createTestIssuer({ port })
  t.teardown(async () => await issuer.close())
  t.equal(issuer.issuerBaseURL, `http://127.0.0.1:${port}/`)
  t.equal(issuer.issuer, issuer.issuerBaseURL)
  const discovery = await (await fetch(issuer.discoveryUrl)).json() as Record<string, unknown>
  t.match(discovery, { issuer: issuer.issuer, jwks_uri: issuer.jwksUri })
  t.strictSame((await (await fetch(issuer.jwksUri)).json() as { keys: Array<{ kid: string }> }).keys.map((k: { kid: string }) => k.kid), [issuer.currentKey.kid])
  const missing = await fetch(`${issuer.issuerBaseURL}nope?x=1`)
  t.equal(missing.status, 404)
  t.strictSame(issuer.requests, { discovery: 1, jwks: 1 })
  const copy = issuer.jwks()
  copy.keys[0]!.kid = 'changed'
  t.equal(issuer.jwks().keys[0]?.kid, issuer.currentKey.kid, 'jwks() returns copies')
})

t.test('token(): defaults, header overrides, claim removal, foreign keys', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => await issuer.close())
  const token = await issuer.token()
  t.match(decodeProtectedHeader(token), { alg: 'RS256', kid: issuer.currentKey.kid, typ: 'at+jwt' })
  const claims = decodeJwt(token)
  t.match(claims, { iss: issuer.issuer, aud: 'https://api.example.com/', sub: 'test-user' })
  t.equal((claims.exp as number) - (claims.iat as number), 3600)
  t.notOk('exp' in decodeJwt(await issuer.token({ exp: undefined })))
  t.equal(decodeProtectedHeader(await issuer.token({}, { header: { typ: 'JWT' } })).typ, 'JWT')
  const foreign = await issuer.foreignKey()
  t.equal(foreign.alg, 'RS256')
  t.not(foreign.kid, issuer.currentKey.kid)
  t.notOk(issuer.jwks().keys.some((k) => k.kid === foreign.kid), 'a foreign key is not published')
})

t.test('close() releases hanging requests', async (t) => {
  const issuer = await createTestIssuer()
  issuer.outage({ jwks: 'hang' })
  const pending = fetch(issuer.jwksUri).then(() => 'answered', () => 'failed')
  await new Promise((resolve) => setTimeout(resolve, 50))
  await issuer.close()
  t.equal(await pending, 'failed')
})

t.test('an HMAC issuer: tokens MACed with its secret, no kid, nothing published; rotation changes the secret', async (t) => {
  const issuer = await createTestIssuer({ alg: 'HS384', secret: 's'.repeat(48) })
  t.teardown(async () => await issuer.close())
  t.equal(issuer.secret, 's'.repeat(48))
  const token = await issuer.token()
  t.strictSame(decodeProtectedHeader(token), { alg: 'HS384', typ: 'at+jwt' })
  await jwtVerify(token, new TextEncoder().encode('s'.repeat(48)), { algorithms: ['HS384'] })
  t.strictSame(issuer.jwks(), { keys: [] })
  const foreign = await issuer.foreignKey()
  t.equal(foreign.alg, 'HS384')
  await t.rejects(jwtVerify(await issuer.token({}, { signingKey: foreign.privateKey }), new TextEncoder().encode('s'.repeat(48))), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })
  await issuer.rotateKeys()
  t.not(issuer.secret, 's'.repeat(48))
  t.equal(Buffer.byteLength(issuer.secret as string), 86, 'a random secret: 64 bytes, base64url')
  await jwtVerify(await issuer.token(), new TextEncoder().encode(issuer.secret as string))
  const random = await createTestIssuer({ alg: 'HS256' })
  t.teardown(async () => await random.close())
  t.equal(Buffer.byteLength(random.secret as string), 86)
  const rs = await createTestIssuer()
  t.teardown(async () => await rs.close())
  t.equal(rs.secret, undefined, 'no secret for an asymmetric issuer')
})

t.test('encrypted tokens: decryptionKeyPair and encryptToken (PEM, JWK, KeyObject), or token({ encrypt })', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => await issuer.close())
  const pair = decryptionKeyPair({ kid: 'enc-1' })
  t.equal(pair.kid, 'enc-1')
  t.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/)
  t.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/)
  t.equal(pair.publicKey.asymmetricKeyDetails?.modulusLength, 2048)
  const jws = await issuer.token()
  const jwk = pair.publicKey.export({ format: 'jwk' }) as JWK
  for (const publicKey of [pair.publicKeyPem, jwk, pair.publicKey]) {
    const jwe = await encryptToken(jws, { publicKey, kid: 'enc-1' })
    t.strictSame(decodeProtectedHeader(jwe), { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'enc-1', cty: 'JWT' })
    t.equal(new TextDecoder().decode((await compactDecrypt(jwe, pair.privateKey)).plaintext), jws)
  }
  const custom = await encryptToken(jws, { publicKey: pair.publicKey, alg: 'RSA-OAEP-512', enc: 'A128CBC-HS256', cty: null, header: { x: 1 } })
  t.strictSame(decodeProtectedHeader(custom), { alg: 'RSA-OAEP-512', enc: 'A128CBC-HS256', x: 1 })
  const viaToken = await issuer.token({ sub: 'enc' }, { encrypt: { publicKey: pair.publicKey } })
  t.equal(decodeJwt(new TextDecoder().decode((await compactDecrypt(viaToken, pair.privateKey)).plaintext)).sub, 'enc')

  const saved = process.env.NODE_ENV
  t.teardown(() => { if (saved === undefined) Reflect.deleteProperty(process.env, 'NODE_ENV'); else process.env.NODE_ENV = saved })
  process.env.NODE_ENV = 'production'
  const refusal = 'fastify-auth0-api/testing refuses to run with NODE_ENV=production: it mints tokens for tests only'
  t.throws(() => decryptionKeyPair(), new Error(refusal))
  await t.rejects(encryptToken(jws, { publicKey: pair.publicKey }), new Error(refusal))
})
