/**
 * Interoperability with independent implementations, all on loopback: oidc-provider (a real
 * authorization server: client_credentials + resource indicator, JWT access tokens, Bearer or
 * DPoP-bound) issues the tokens; oauth4webapi (a real client: `protectedResourceRequest` with its
 * DPoP handle and its nonce retry) calls a real, listening Fastify app protected by the plugin.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorization-server.js'
import { callProtected, clientCredentialsToken, discover, dpopHandle, type DPoPKey } from '../fixtures/oauth-client.js'
import { expectGrammar } from '../helpers/expect.js'

const AUDIENCE = 'https://api.example.com/'

async function startApi (as: AuthorizationServer, options: Partial<Auth0PluginOptions> = {}): Promise<{ app: FastifyInstance, origin: string }> {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(auth0Plugin, { issuerBaseURL: as.issuer, audience: AUDIENCE, env: {}, ...options })
  const echo = async (request: { claims: Record<string, unknown>, auth?: unknown }): Promise<unknown> => ({ sub: request.claims.sub, auth: request.auth })
  app.get('/api/private', { preHandler: app.requireAuth() }, echo)
  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, echo)
  app.get('/api/admin', { preHandler: app.requireAuth('admin') }, echo)
  app.post('/api/data', { preHandler: app.requireAuth() }, echo)
  app.get('/api/dpop-only', { preHandler: app.requireAuth({ dpop: 'required' }) }, echo)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

// oidc-provider's own default issuer has no trailing slash (Auth0's has one): both must work.
for (const trailingSlash of [true, false]) {
  t.test(`oidc-provider issuer ${trailingSlash ? 'with' : 'without'} a trailing slash`, async (t) => {
    const as = await startAuthorizationServer({ audience: AUDIENCE, scopes: ['read:messages', 'write:messages'], trailingSlash })
    t.teardown(async () => await as.close())
    const metadata = await discover(as.issuer)
    const grant = async (dpop?: DPoPKey, scope = 'read:messages'): Promise<string> =>
      (await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: AUDIENCE, scope, ...(dpop !== undefined ? { dpop } : {}) })).accessToken
    const { origin } = await startApi(as)

    await t.test('Bearer token, Bearer scheme', async (t) => {
      const token = await grant()
      const res = await callProtected(`${origin}/api/messages`, token)
      t.equal(res.status, 200)
      t.same(res.body, { sub: as.clientId, auth: { scheme: 'bearer', token, clientId: as.clientId } })
    })

    await t.test('DPoP-bound token, DPoP scheme (GET with a query, POST with a body)', async (t) => {
      const key = await dpopHandle()
      const token = await grant(key)
      const res = await callProtected(`${origin}/api/messages?page=2`, token, { dpop: key })
      t.equal(res.status, 200)
      t.same(res.body, { sub: as.clientId, auth: { scheme: 'dpop', token, jkt: key.jkt, clientId: as.clientId } })
      t.equal(res.nonceRetried, false)
      t.equal(res.headers.get('dpop-nonce'), null, 'nonces are off')
      const post = await callProtected(`${origin}/api/data`, token, { dpop: key, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
      t.equal(post.status, 200)
    })

    await t.test('DPoP-bound token sent as Bearer is refused', async (t) => {
      const token = await grant(await dpopHandle())
      const res = await callProtected(`${origin}/api/private`, token)
      t.equal(res.status, 401)
      t.equal(res.headers.get('www-authenticate'), 'Bearer realm="api", error="invalid_token", error_description="DPoP-bound token presented with the Bearer scheme", DPoP algs="ES256"')
      expectGrammar(t, { statusCode: res.status, headers: { 'www-authenticate': res.headers.get('www-authenticate') ?? undefined }, body: res.body })
      t.same(res.challenges, [
        { scheme: 'bearer', parameters: { realm: 'api', error: 'invalid_token', error_description: 'DPoP-bound token presented with the Bearer scheme' } },
        { scheme: 'dpop', parameters: { algs: 'ES256' } }
      ], 'oauth4webapi reads both challenges from the one line')
    })

    await t.test('Bearer token with a DPoP proof (DPoP scheme) is refused', async (t) => {
      const token = await grant()
      const res = await callProtected(`${origin}/api/private`, token, { dpop: await dpopHandle() })
      t.equal(res.status, 401)
      t.same(res.body, { detail: { error: 'invalid_token', error_description: 'DPoP scheme used with a token that is not DPoP-bound' } })
      t.same(res.challenges?.[1], { scheme: 'dpop', parameters: { error: 'invalid_token', error_description: 'DPoP scheme used with a token that is not DPoP-bound', algs: 'ES256' } })
    })

    await t.test('another client key than the bound one', async (t) => {
      const token = await grant(await dpopHandle())
      const res = await callProtected(`${origin}/api/private`, token, { dpop: await dpopHandle() })
      t.equal(res.status, 401)
      t.same(res.body, { detail: { error: 'invalid_token', error_description: 'DPoP proof key does not match the token binding (cnf.jkt)' } })
    })

    await t.test('missing scope with DPoP: 403 on the DPoP challenge', async (t) => {
      const key = await dpopHandle()
      const res = await callProtected(`${origin}/api/admin`, await grant(key), { dpop: key })
      t.equal(res.status, 403)
      t.same(res.challenges?.[1], { scheme: 'dpop', parameters: { error: 'insufficient_scope', error_description: 'missing scope admin', scope: 'admin', algs: 'ES256' } })
    })

    await t.test('per-route DPoP required', async (t) => {
      const key = await dpopHandle()
      t.equal((await callProtected(`${origin}/api/dpop-only`, await grant(key), { dpop: key })).status, 200)
      const bearer = await callProtected(`${origin}/api/dpop-only`, await grant())
      t.equal(bearer.status, 400)
      t.same(bearer.challenges, [{ scheme: 'dpop', parameters: { error: 'invalid_request', error_description: 'DPoP authorization scheme required', algs: 'ES256' } }])
    })
  })
}

t.test('server nonces: oauth4webapi retries once on use_dpop_nonce, then reuses the nonce', async (t) => {
  const as = await startAuthorizationServer({ audience: AUDIENCE, trailingSlash: true })
  t.teardown(async () => await as.close())
  const metadata = await discover(as.issuer)
  const { origin } = await startApi(as, { dpop: { nonce: { secret: 'interop nonce secret, thirty-two bytes at least' } } })
  const key = await dpopHandle()
  const token = (await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: AUDIENCE, dpop: key })).accessToken

  const first = await callProtected(`${origin}/api/private`, token, { dpop: key })
  t.equal(first.status, 200)
  t.equal(first.nonceRetried, true, 'the first proof had no nonce: challenged, then retried')
  t.same(first.body, { sub: as.clientId, auth: { scheme: 'dpop', token, jkt: key.jkt, clientId: as.clientId } })
  const second = await callProtected(`${origin}/api/private`, token, { dpop: key })
  t.equal(second.status, 200)
  t.equal(second.nonceRetried, false, 'the handle cached the nonce for this origin')

  const bearer = await callProtected(`${origin}/api/private`, (await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: AUDIENCE })).accessToken)
  t.equal(bearer.status, 200, 'Bearer requests are not asked for nonces')
})

t.test('nonces at both ends: token endpoint and resource server', async (t) => {
  const as = await startAuthorizationServer({ audience: AUDIENCE, trailingSlash: true, dpopNonce: true })
  t.teardown(async () => await as.close())
  const metadata = await discover(as.issuer)
  const { origin } = await startApi(as, { dpop: { nonce: true, mode: 'required' } })
  const key = await dpopHandle()
  const grant = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: AUDIENCE, dpop: key })
  t.equal(grant.nonceRetried, true)
  const res = await callProtected(`${origin}/api/private`, grant.accessToken, { dpop: key })
  t.equal(res.status, 200)
  t.equal(res.nonceRetried, true, 'the resource server\'s nonce is another one (another origin)')
  t.same(as.serverErrors, [])
})

t.test('modes against the real client', async (t) => {
  const as = await startAuthorizationServer({ audience: AUDIENCE, trailingSlash: true })
  t.teardown(async () => await as.close())
  const metadata = await discover(as.issuer)
  const grant = async (dpop?: DPoPKey): Promise<string> =>
    (await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: AUDIENCE, ...(dpop !== undefined ? { dpop } : {}) })).accessToken
  const required = await startApi(as, { dpop: { mode: 'required' } })
  const disabled = await startApi(as, { dpop: { mode: 'disabled' } })
  const key = await dpopHandle()

  t.equal((await callProtected(`${required.origin}/api/private`, await grant(key), { dpop: key })).status, 200, 'required: DPoP accepted')
  const bearerOnRequired = await callProtected(`${required.origin}/api/private`, await grant())
  t.equal(bearerOnRequired.status, 400, 'required: Bearer refused')
  t.same(bearerOnRequired.challenges, [{ scheme: 'dpop', parameters: { error: 'invalid_request', error_description: 'DPoP authorization scheme required', algs: 'ES256' } }])

  t.equal((await callProtected(`${disabled.origin}/api/private`, await grant())).status, 200, 'disabled: Bearer accepted')
  const dpopOnDisabled = await callProtected(`${disabled.origin}/api/private`, await grant(key), { dpop: key })
  t.equal(dpopOnDisabled.status, 400, 'disabled: DPoP refused')
  t.same(dpopOnDisabled.challenges, [{ scheme: 'bearer', parameters: { realm: 'api', error: 'invalid_request', error_description: 'DPoP authorization scheme not accepted' } }])
  const boundOnDisabled = await callProtected(`${disabled.origin}/api/private`, await grant(key))
  t.equal(boundOnDisabled.status, 401, 'disabled: a bound token is still not a bearer token')
  t.same(boundOnDisabled.challenges, [{ scheme: 'bearer', parameters: { realm: 'api', error: 'invalid_token', error_description: 'DPoP-bound token presented with the Bearer scheme' } }])
})
