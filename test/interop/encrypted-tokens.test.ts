/**
 * Issue 11 item 2, second producer: oidc-provider (its own code, not ours) issues JWT access tokens
 * encrypted for the API, through its resource server `jwt.encrypt` setting, as Auth0 does for an
 * API with token encryption on ("compact-nested-jwe"). What it sends is checked first (a nested
 * JWS in a JWE: header `cty: 'at+jwt'`, and `iss`, `aud`, `kid` copied into the JWE header), then
 * that the plugin accepts it with `decryption`, and refuses it (401, the right reason) with a wrong
 * key, an unknown `kid`, an algorithm outside the allowlists, or no `decryption` at all.
 * oauth4webapi is the client on both sides (token request, protected resource call) and reads the
 * challenges itself. The node:crypto producer (test/fixtures/jwe-producer.ts) covers the rest.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import auth0Plugin, { type Auth0PluginOptions, type AuthError } from '../../lib/index.js'
import { decryptionKeyPair } from '../../lib/testing/index.js'
import { startPolicyProvider, type ProviderEncryption } from '../fixtures/policy-provider.js'
import { callProtected, clientCredentialsToken, discover, dpopHandle, type DPoPKey } from '../fixtures/oauth-client.js'

const AUDIENCE = 'https://api.example.com/'
const rsa = decryptionKeyPair()
const other = decryptionKeyPair()

const decode = (segment: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(segment as string, 'base64url').toString()) as Record<string, unknown>

interface Issued { issuer: string, clientId: string, serverErrors: Error[], grant: (dpop?: DPoPKey) => Promise<string> }

async function provider (t: Test, encrypt: ProviderEncryption): Promise<Issued> {
  const as = await startPolicyProvider({ audience: AUDIENCE, encrypt })
  t.teardown(async () => await as.close())
  const metadata = await discover(as.issuer)
  return {
    issuer: as.issuer,
    clientId: as.clientId,
    serverErrors: as.serverErrors,
    grant: async (dpop) => (await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: AUDIENCE, scope: 'read:messages', ...(dpop !== undefined ? { dpop } : {}) })).accessToken
  }
}

async function startApi (t: Test, issuer: string, options: Partial<Auth0PluginOptions>): Promise<{ app: FastifyInstance, origin: string }> {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(auth0Plugin, { issuerBaseURL: issuer, audience: AUDIENCE, env: {}, ...options })
  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ sub: request.claims.sub, clientId: request.auth?.clientId, jkt: request.auth?.jkt }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

async function reasonOf (app: FastifyInstance, token: string): Promise<string> {
  return await app.auth0.verify({ method: 'GET', url: '/api/messages', headers: { authorization: `Bearer ${token}` } }).then(() => 'accepted', (err: AuthError) => err.reason)
}

t.test("oidc-provider's encrypted access token: a nested JWS in a JWE, header cty at+jwt with iss, aud and kid", async (t) => {
  const as = await provider(t, { alg: 'RSA-OAEP-256', enc: 'A256GCM', key: rsa.publicKey, kid: 'enc-1' })
  const token = await as.grant()
  const segments = token.split('.')
  t.equal(segments.length, 5, 'compact JWE')
  t.same(decode(segments[0]), { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'enc-1', iss: as.issuer, aud: AUDIENCE, cty: 'at+jwt' },
    'the JWE header as the provider writes it (iss and aud are replicated there, RFC 7519 §5.3)')
  t.equal(Buffer.from(segments[1] as string, 'base64url').length, 256, 'the CEK wrapped for a 2048-bit key')

  const { app, origin } = await startApi(t, as.issuer, { decryption: { keys: [{ privateKey: rsa.privateKey, kid: 'enc-1' }] }, profile: 'rfc9068' })
  const res = await callProtected(`${origin}/api/messages`, token)
  t.equal(res.status, 200, 'accepted with the right key, under the RFC 9068 profile (inner typ at+jwt)')
  t.same(res.body, { sub: as.clientId, clientId: as.clientId })
  t.equal(await reasonOf(app, token), 'accepted', 'fastify.auth0.verify() too')
  t.same(as.serverErrors, [], 'the provider reported no server error')
})

t.test('the same token refused: wrong key, unknown kid, no decryption configured', async (t) => {
  const as = await provider(t, { alg: 'RSA-OAEP-256', enc: 'A256GCM', key: rsa.publicKey, kid: 'enc-1' })
  const token = await as.grant()

  // Another private key under the provider's kid: the RSA decryption fails, one answer for every cause.
  const wrong = await startApi(t, as.issuer, { decryption: { keys: [{ privateKey: other.privateKey, kid: 'enc-1' }] } })
  t.equal(await reasonOf(wrong.app, token), 'decryption_failed')
  const res = await callProtected(`${wrong.origin}/api/messages`, token)
  t.equal(res.status, 401)
  t.same(res.body, { detail: { error: 'invalid_token', error_description: 'access token could not be decrypted' } })
  t.same(res.challenges?.[0], { scheme: 'bearer', parameters: { realm: 'api', error: 'invalid_token', error_description: 'access token could not be decrypted' } })
  t.notOk(JSON.stringify(res.body).includes(token.slice(-20)), 'the token is not echoed')

  // The right key under another kid: refused before any private-key work.
  const renamed = await startApi(t, as.issuer, { decryption: { keys: [{ privateKey: rsa.privateKey, kid: 'enc-2' }] } })
  t.equal(await reasonOf(renamed.app, token), 'jwe_kid_unknown')
  const unknown = await callProtected(`${renamed.origin}/api/messages`, token)
  t.equal(unknown.status, 401)
  t.same(unknown.challenges?.[0]?.parameters, { realm: 'api', error: 'invalid_token', error_description: 'no matching decryption key (kid)' })

  // No decryption: the description says the token is not a readable JWT.
  const plain = await startApi(t, as.issuer, {})
  t.equal(await reasonOf(plain.app, token), 'not_a_jws')
  const none = await callProtected(`${plain.origin}/api/messages`, token)
  t.equal(none.status, 401)
  t.match(none.challenges?.[0]?.parameters.error_description, /opaque or encrypted/)
  t.same(as.serverErrors, [], 'the provider reported no server error')
})

t.test('other encodings the provider offers: RSA-OAEP-512 with A128CBC-HS256, accepted only when allowed', async (t) => {
  const as = await provider(t, { alg: 'RSA-OAEP-512', enc: 'A128CBC-HS256', key: rsa.publicKey })
  const token = await as.grant()
  t.same(decode(token.split('.')[0]), { alg: 'RSA-OAEP-512', enc: 'A128CBC-HS256', iss: as.issuer, aud: AUDIENCE, cty: 'at+jwt' }, 'no kid when none is configured')
  const allowed = await startApi(t, as.issuer, { decryption: { keys: [{ privateKey: rsa.privateKeyPem }], encryption: ['A256GCM', 'A128CBC-HS256'] } })
  t.equal((await callProtected(`${allowed.origin}/api/messages`, token)).status, 200)
  const gcmOnly = await startApi(t, as.issuer, { decryption: { keys: [{ privateKey: rsa.privateKey }] } })
  t.equal(await reasonOf(gcmOnly.app, token), 'jwe_enc_not_allowed', "A256GCM only by default (Auth0's)")
  const only256 = await startApi(t, as.issuer, { decryption: { keys: [{ privateKey: rsa.privateKey }], algorithms: ['RSA-OAEP-256'], encryption: ['A128CBC-HS256'] } })
  t.equal(await reasonOf(only256.app, token), 'jwe_alg_not_allowed')
  t.same(as.serverErrors, [], 'the provider reported no server error')
})

t.test("RSA-OAEP (SHA-1), which the provider also offers, is outside the allowlist (Auth0 offers SHA-2 only)", async (t) => {
  const as = await provider(t, { alg: 'RSA-OAEP', enc: 'A256GCM', key: rsa.publicKey })
  const token = await as.grant()
  t.equal(decode(token.split('.')[0]).alg, 'RSA-OAEP')
  const { app, origin } = await startApi(t, as.issuer, { decryption: { keys: [{ privateKey: rsa.privateKey }] } })
  t.equal(await reasonOf(app, token), 'jwe_alg_not_allowed')
  const res = await callProtected(`${origin}/api/messages`, token)
  t.equal(res.status, 401)
  t.same(res.challenges?.[0]?.parameters, { realm: 'api', error: 'invalid_token', error_description: 'token key management algorithm (alg) not allowed' })
  t.same(as.serverErrors, [], 'the provider reported no server error')
})

t.test('a DPoP-bound encrypted token: oauth4webapi computes ath over the JWE it received, the binding inside is checked', async (t) => {
  const as = await provider(t, { alg: 'RSA-OAEP-256', enc: 'A256GCM', key: rsa.publicKey, kid: 'enc-1' })
  const key = await dpopHandle()
  const token = await as.grant(key)
  t.equal(token.split('.').length, 5)
  const { origin } = await startApi(t, as.issuer, { decryption: { keys: [{ privateKey: rsa.privateKey, kid: 'enc-1' }] } })
  const ok = await callProtected(`${origin}/api/messages`, token, { dpop: key })
  t.equal(ok.status, 200)
  t.same(ok.body, { sub: as.clientId, clientId: as.clientId, jkt: key.jkt })
  // The same bound token as a bearer token: refused in every mode.
  const bearer = await callProtected(`${origin}/api/messages`, token)
  t.equal(bearer.status, 401)
  t.equal(bearer.challenges?.[0]?.parameters.error, 'invalid_token')
  // Another proof key: the cnf.jkt inside the JWE does not match.
  const stranger = await callProtected(`${origin}/api/messages`, token, { dpop: await dpopHandle() })
  t.equal(stranger.status, 401)
  t.same(as.serverErrors, [], 'the provider reported no server error')
})
