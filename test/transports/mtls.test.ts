/**
 * RFC 8705 certificate-bound tokens over real TLS: certificates made per run by openssl, a
 * Fastify https server asking for client certificates, undici clients presenting them. The
 * thumbprint is witnessed by openssl and node:crypto, the binding checked on every request
 * (verified-token cache hits included), the proxy header honoured only from a trusted peer.
 */
import { X509Certificate } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import t from 'tap'
import { Agent, request } from 'undici'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, type TestIssuer } from '../../lib/testing/index.js'
import { certificateThumbprint, pemToDer } from '../../lib/mtls/thumbprint.js'
import { AUDIENCE } from '../helpers/app.js'
import { makeCertificate, type Certificate } from '../helpers/certificates.js'
import { expectError, expectInvalidToken, oracleEveryReply } from '../helpers/expect.js'
import { startupError } from '../helpers/startup.js'

const server = await makeCertificate('api.test', { server: true })
const alice = await makeCertificate('alice')
const bob = await makeCertificate('bob')

async function api (t: Tap.Test, options: Partial<Auth0PluginOptions>, fastify: FastifyServerOptions & { https?: unknown } = {}): Promise<{ app: FastifyInstance, issuer: TestIssuer, origin: string }> {
  const issuer = await createTestIssuer()
  const app = Fastify(fastify as FastifyServerOptions)
  t.teardown(async () => { await app.close(); await issuer.close() })
  // Every reply, over TLS or injected, through the WWW-Authenticate grammar oracle.
  oracleEveryReply(app, t)
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, ...options })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub, auth: request.auth }))
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, issuer, origin }
}
declare namespace Tap { type Test = import('tap').Test }

const tlsServer = { https: { key: server.key, cert: server.cert, requestCert: true, rejectUnauthorized: false } }

/** A client that presents `certificate` (or none) and trusts the test server. */
function client (t: Tap.Test, certificate?: Certificate): Agent {
  const agent = new Agent({ connect: { ca: server.cert, ...(certificate !== undefined ? { cert: certificate.cert, key: certificate.key } : {}) } })
  t.teardown(async () => { await agent.close() })
  return agent
}

async function get (url: string, dispatcher: Agent, token: string): Promise<{ status: number, body: Record<string, unknown>, challenge: string | string[] | undefined }> {
  const res = await request(url, { dispatcher, headers: { authorization: `Bearer ${token}` } })
  return { status: res.statusCode, body: await res.body.json() as Record<string, unknown>, challenge: res.headers['www-authenticate'] }
}

const challenge = (description: string): string => `Bearer realm="api", error="invalid_token", error_description="${description}", DPoP algs="ES256"`
const MISSING = 'certificate-bound token sent without a client certificate'
const MISMATCH = 'client certificate does not match the token binding (x5t#S256)'

t.test('the thumbprint: openssl, node:crypto and our code agree', async (t) => {
  for (const c of [server, alice, bob]) {
    const x509 = new X509Certificate(c.cert)
    t.equal(Buffer.from(x509.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url'), c.thumbprint, 'node:crypto = openssl')
    t.equal(certificateThumbprint(c.cert), c.thumbprint, 'PEM')
    t.equal(certificateThumbprint(x509), c.thumbprint, 'X509Certificate')
    t.equal(certificateThumbprint(x509.raw), c.thumbprint, 'DER')
    t.equal(certificateThumbprint(c.cert.replace(/\n/g, '\r\n')), c.thumbprint, 'CRLF line ends')
  }
  t.equal(certificateThumbprint(''), undefined)
  t.equal(certificateThumbprint(new Uint8Array()), undefined)
  t.equal(certificateThumbprint(`${alice.cert}${bob.cert}`), undefined, 'a chain is not one certificate')
  t.equal(certificateThumbprint('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----'), undefined, 'bad base64')
  t.equal(certificateThumbprint('-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----'), undefined, 'empty')
  t.equal(pemToDer(alice.cert)?.equals(new X509Certificate(alice.cert).raw), true)
})

t.test('over real TLS: the bound token only with its certificate, on every request', async (t) => {
  const { issuer, origin } = await api(t, { mtls: true }, tlsServer)
  const token = await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint } })
  const asAlice = client(t, alice)
  const ok = await get(`${origin}/private`, asAlice, token)
  t.equal(ok.status, 200)
  t.same(ok.body, { sub: 'test-user', auth: { scheme: 'bearer', token, x5t: alice.thumbprint } })
  // Three more: the token is now in the verified-token cache.
  for (let i = 0; i < 3; i++) t.equal((await get(`${origin}/private`, asAlice, token)).status, 200)
  const asBob = await get(`${origin}/private`, client(t, bob), token)
  t.equal(asBob.status, 401, 'another certificate, although the token is cached')
  t.same(asBob.body, { detail: { error: 'invalid_token', error_description: MISMATCH } })
  t.equal(asBob.challenge, challenge(MISMATCH))
  const anonymous = await get(`${origin}/private`, client(t), token)
  t.equal(anonymous.status, 401, 'no certificate')
  t.same(anonymous.body, { detail: { error: 'invalid_token', error_description: MISSING } })
  t.equal(anonymous.challenge, challenge(MISSING))
  // An unbound token needs no certificate and ignores one.
  const plain = await issuer.token()
  const unbound = await get(`${origin}/private`, asAlice, plain)
  t.equal(unbound.status, 200)
  t.same(unbound.body.auth, { scheme: 'bearer', token: plain })
  t.equal((await get(`${origin}/private`, client(t), plain)).status, 200)
})

t.test('oidc-provider issues a token bound to the client certificate; the API accepts it on that certificate only', async (t) => {
  const { startMtlsAuthorizationServer } = await import('../fixtures/mtls-authorization-server.js')
  const as = await startMtlsAuthorizationServer({ audience: AUDIENCE, server })
  t.teardown(async () => { await as.close() })
  const asAlice = client(t, alice)
  const token = await as.clientCredentials(asAlice)
  t.equal(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).cnf['x5t#S256'], alice.thumbprint, 'oidc-provider bound it to the certificate it saw')
  // The API fetches the provider's discovery and JWKS over https through the `fetch` option.
  const app = Fastify(tlsServer as FastifyServerOptions)
  t.teardown(async () => { await app.close() })
  await app.register(auth0Plugin, { issuerBaseURL: as.issuer, audience: AUDIENCE, env: {}, mtls: true, fetch: as.fetch })
  app.get('/private', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ sub: request.claims.sub, x5t: request.auth?.x5t }))
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  const ok = await get(`${origin}/private`, asAlice, token)
  t.equal(ok.status, 200)
  t.same(ok.body, { sub: as.clientId, x5t: alice.thumbprint })
  t.equal((await get(`${origin}/private`, client(t, bob), token)).status, 401)
  t.equal((await get(`${origin}/private`, client(t), token)).status, 401)
  t.same(as.serverErrors, [])
})

t.test('without mtls, a certificate-bound token is refused as before (binding_unsupported)', async (t) => {
  const { app, issuer } = await api(t, {})
  const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint } })}` } })
  expectInvalidToken(t, res, 'token bound by an unsupported confirmation method')
  // Other confirmation methods stay refused with mtls too; bad x5t values are bad tokens.
  const { app: withMtls, issuer: other } = await api(t, { mtls: true })
  expectInvalidToken(t, await withMtls.inject({ url: '/private', headers: { authorization: `Bearer ${await other.token({ cnf: { jwk: {} } })}` } }), 'token bound by an unsupported confirmation method')
  for (const x5t of ['', 5, null, ['a']]) {
    expectInvalidToken(t, await withMtls.inject({ url: '/private', headers: { authorization: `Bearer ${await other.token({ cnf: { 'x5t#S256': x5t } })}` } }), 'invalid cnf claim')
  }
  // Plain HTTP: no socket certificate at all.
  expectInvalidToken(t, await withMtls.inject({ url: '/private', headers: { authorization: `Bearer ${await other.token({ cnf: { 'x5t#S256': alice.thumbprint } })}` } }), MISSING)
})

t.test('a token bound both to a certificate and to a DPoP key needs both', async (t) => {
  const { app, issuer } = await api(t, { mtls: { certificate: () => alice.cert } })
  const { dpopKey } = await import('../../lib/testing/index.js')
  const key = await dpopKey()
  const token = await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint, jkt: key.jkt } })
  expectInvalidToken(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } }), 'DPoP-bound token presented with the Bearer scheme')
  const bobsToken = await issuer.token({ cnf: { 'x5t#S256': bob.thumbprint, jkt: key.jkt } })
  const dpop = await (await import('../../lib/testing/index.js')).proof({ key, url: 'http://localhost:80/private', accessToken: bobsToken })
  const res = await app.inject({ url: '/private', headers: { authorization: `DPoP ${bobsToken}`, dpop } })
  expectError(t, res, { status: 401, error: 'invalid_token', description: MISMATCH, challenge: `Bearer realm="api", DPoP error="invalid_token", error_description="${MISMATCH}", algs="ES256"` })
})

t.test('the proxy header: URL-encoded PEM, read only from a peer trustProxy trusts', async (t) => {
  const { app, issuer } = await api(t, { mtls: { header: 'X-Client-Cert' } }, { trustProxy: '127.0.0.1' })
  const token = await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint } })
  const call = async (headers: Record<string, string | string[]>, remoteAddress = '127.0.0.1'): Promise<import('fastify').LightMyRequestResponse> =>
    await app.inject({ url: '/private', remoteAddress, headers: { authorization: `Bearer ${token}`, ...headers } })
  const ok = await call({ 'x-client-cert': alice.escaped })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().auth.x5t, alice.thumbprint)
  // Some proxies leave `+`, `/` and `=` unescaped: `+` is base64, never a space.
  t.ok(alice.cert.includes('+') || alice.cert.includes('/'), 'the PEM has characters a form decoder would change')
  t.equal((await call({ 'x-client-cert': alice.cert.replace(/\n/g, '%0A') })).statusCode, 200)
  expectInvalidToken(t, await call({ 'x-client-cert': bob.escaped }), MISMATCH)
  expectInvalidToken(t, await call({}), MISSING)
  // From a peer that is not the proxy, the header is ignored: no certificate.
  expectInvalidToken(t, await call({ 'x-client-cert': alice.escaped }, '203.0.113.9'), MISSING)
  for (const bad of ['%E0%A4%A', 'garbage', encodeURIComponent(alice.cert + bob.cert)]) {
    expectInvalidToken(t, await call({ 'x-client-cert': bad }), 'client certificate unreadable')
  }
  expectInvalidToken(t, await call({ 'x-client-cert': [alice.escaped, alice.escaped] }), 'client certificate unreadable')
  // An unbound token does not look at the header.
  t.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}`, 'x-client-cert': 'garbage' } })).statusCode, 200)
})

t.test('trustProxy forms: hop counts trust no peer (Fastify), a function decides', async (t) => {
  const { app, issuer } = await api(t, { mtls: { header: 'x-client-cert' } }, { trustProxy: 1 as never })
  const token = await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint } })
  expectInvalidToken(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}`, 'x-client-cert': alice.escaped } }), MISSING)
  const { app: byFunction, issuer: other } = await api(t, { mtls: { header: 'x-client-cert' } }, { trustProxy: (address: string) => address === '10.1.2.3' })
  const bound = await other.token({ cnf: { 'x5t#S256': alice.thumbprint } })
  t.equal((await byFunction.inject({ url: '/private', remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${bound}`, 'x-client-cert': alice.escaped } })).statusCode, 200)
  expectInvalidToken(t, await byFunction.inject({ url: '/private', remoteAddress: '10.1.2.4', headers: { authorization: `Bearer ${bound}`, 'x-client-cert': alice.escaped } }), MISSING)
})

t.test('mtls.certificate: PEM, DER, X509Certificate, nothing, async, or a failure (500)', async (t) => {
  const cases: Array<[string, Auth0PluginOptions['mtls'], number]> = [
    ['PEM', { certificate: () => alice.cert }, 200],
    ['DER', { certificate: () => new X509Certificate(alice.cert).raw }, 200],
    ['X509Certificate', { certificate: () => new X509Certificate(alice.cert) }, 200],
    ['async', { certificate: async () => alice.cert }, 200],
    ['none', { certificate: () => undefined }, 401],
    ['another', { certificate: async () => bob.cert }, 401],
    ['unreadable', { certificate: () => 'nope' }, 401],
    ['throws', { certificate: () => { throw new Error('boom') } }, 500],
    ['rejects', { certificate: async () => { throw new Error('boom') } }, 500]
  ]
  for (const [name, mtls, status] of cases) {
    const { app, issuer } = await api(t, { mtls })
    const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint } })}` } })
    t.equal(res.statusCode, status, name)
    if (status === 500) t.same(res.json(), { detail: { error: 'internal_server_error', error_description: 'internal error' } })
  }
})

t.test('fastify.auth0.verify takes the certificate in the request', async (t) => {
  const { app, issuer } = await api(t, { mtls: true })
  const token = await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint } })
  const headers = { authorization: `Bearer ${token}` }
  t.equal((await app.auth0.verify({ method: 'GET', url: '/', headers, clientCertificate: alice.cert })).sub, 'test-user')
  await t.rejects(app.auth0.verify({ method: 'GET', url: '/', headers, clientCertificate: bob.cert }), { reason: 'x5t_mismatch' } as never)
  await t.rejects(app.auth0.verify({ method: 'GET', url: '/', headers }), { reason: 'mtls_certificate_missing' } as never)
  await t.rejects(app.auth0.verify({ method: 'GET', url: '/', headers, clientCertificate: 'x' }), { reason: 'mtls_certificate_unreadable' } as never)
})

t.test('RFC 9728 metadata says certificate-bound tokens are supported', async (t) => {
  const { app } = await api(t, { mtls: true, publicBaseURL: 'https://api.example.com', resourceMetadata: true })
  t.equal((await app.inject({ url: '/.well-known/oauth-protected-resource' })).json().tls_client_certificate_bound_access_tokens, true)
  const { app: without } = await api(t, { publicBaseURL: 'https://api.example.com', resourceMetadata: true })
  t.equal((await without.inject({ url: '/.well-known/oauth-protected-resource' })).json().tls_client_certificate_bound_access_tokens, undefined)
})

t.test('start-up errors name the option', async (t) => {
  const base = { issuerBaseURL: 'https://tenant.example.com/', audience: AUDIENCE, env: {} }
  const cases: Array<[unknown, RegExp]> = [
    ['yes', /mtls must be true, false or an options object \(got string\)/],
    [{ headers: 'x' }, /mtls: unknown option "headers" \(known: header, certificate\)/],
    [{ header: 'x-a', certificate: () => undefined }, /set mtls.header or mtls.certificate, not both/],
    [{ header: 'a b' }, /mtls.header must be a header name/],
    [{ header: 'Authorization' }, /mtls.header cannot be "authorization"/],
    [{ certificate: 'x' }, /mtls.certificate must be a function/]
  ]
  for (const [mtls, message] of cases) t.match((await startupError({ ...base, mtls } as Auth0PluginOptions)).message, message)
  t.match((await startupError({ ...base, mtls: { header: 'x-client-cert' } })).message, /mtls.header needs Fastify's trustProxy option/)
  t.match((await startupError({ ...base, fetch: 'x' as never })).message, /fetch must be a function \(got string\)/)
})
