/**
 * Issue 10 against independent implementations, on loopback: oidc-provider issues the tokens
 * (RFC 9068 access tokens with client_id and jti; acr, auth_time and org_id through its
 * extraTokenClaims hook; an ID token and a logout token from its own IdToken model) and
 * oauth4webapi calls a real, listening Fastify app and parses the WWW-Authenticate challenges
 * itself (`WWWAuthenticateChallengeError.cause`), not with our code.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import auth0Plugin, { type Auth0PluginOptions, type AuthError } from '../../lib/index.js'
import { providerIdTokens, startPolicyProvider, type PolicyProvider } from '../fixtures/policy-provider.js'
import { callProtected, clientCredentialsToken, discover, dpopHandle, type DPoPKey } from '../fixtures/oauth-client.js'

const AUDIENCE = 'https://api.example.com/'

async function startApi (t: Test, as: PolicyProvider, options: Partial<Auth0PluginOptions> = {}): Promise<{ app: FastifyInstance, origin: string }> {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(auth0Plugin, { issuerBaseURL: as.issuer, audience: AUDIENCE, env: {}, ...options })
  const echo = async (request: { claims: Record<string, unknown>, auth?: unknown }): Promise<unknown> => ({ sub: request.claims.sub, auth: request.auth })
  app.get('/api/private', { preHandler: app.requireAuth() }, echo)
  app.post('/api/transfers', { preHandler: app.requireAuth({ scopes: 'transfer:funds', acr: ['gold', 'platinum'], maxAge: 300 }) }, echo)
  app.get('/orgs/:orgId/data', { preHandler: app.requireAuth({ organization: (org, request) => org.id === (request.params as { orgId: string }).orgId }) }, echo)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

async function provider (t: Test): Promise<{ as: PolicyProvider, grant: (extra?: Record<string, unknown>, dpop?: DPoPKey, scope?: string) => Promise<string> }> {
  const as = await startPolicyProvider({ audience: AUDIENCE })
  t.teardown(async () => await as.close())
  const metadata = await discover(as.issuer)
  return {
    as,
    async grant (extra, dpop, scope = 'read:messages transfer:funds') {
      as.extraClaims = extra
      const token = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: AUDIENCE, scope, ...(dpop !== undefined ? { dpop } : {}) })
      return token.accessToken
    }
  }
}

t.test("RFC 9068: oidc-provider's at+jwt tokens pass profile 'rfc9068'; request.auth.clientId is its client_id", async (t) => {
  const { as, grant } = await provider(t)
  const { origin } = await startApi(t, as, { profile: 'rfc9068', maxTokenAge: 60 })
  const token = await grant()
  const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<string, unknown>
  const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
  t.equal(header.typ, 'at+jwt', 'the provider types its access tokens')
  t.equal(payload.client_id, as.clientId)
  t.type(payload.jti, 'string')
  const res = await callProtected(`${origin}/api/private`, token)
  t.equal(res.status, 200)
  t.same(res.body, { sub: as.clientId, auth: { scheme: 'bearer', token, clientId: as.clientId } })
  t.same(as.serverErrors, [])
})

t.test('an ID token and a logout token it issued are refused as access tokens', async (t) => {
  const { as } = await provider(t)
  const { idToken, logoutToken } = await providerIdTokens(as)
  const idPayload = JSON.parse(Buffer.from(idToken.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
  t.equal(idPayload.sub, 'user-1', 'a real ID token: sub, aud = the client')
  t.equal(idPayload.aud, as.clientId)
  t.equal(JSON.parse(Buffer.from(logoutToken.split('.')[0] as string, 'base64url').toString()).typ, 'logout+jwt')
  const verify = async (app: FastifyInstance, token: string): Promise<string> =>
    await app.auth0.verify({ method: 'GET', url: '/', headers: { authorization: `Bearer ${token}` } }).then(() => 'accepted', (err: AuthError) => err.reason)

  // Even with the client id among the audiences (the ID token's aud), the profile refuses it.
  const strict = await startApi(t, as, { profile: 'rfc9068', audience: [AUDIENCE, as.clientId] })
  t.equal(await verify(strict.app, idToken), 'typ_not_at_jwt')
  t.equal(await verify(strict.app, logoutToken), 'typ_not_access_token')
  const res = await callProtected(`${strict.origin}/api/private`, idToken)
  t.equal(res.status, 401)
  t.same(res.challenges?.[0]?.parameters.error, 'invalid_token')
  t.match(res.challenges?.[0]?.parameters.error_description, /typ is not at\+jwt/)

  // Auth0's profile: the audience refuses the ID token; the logout token's typ refuses it anyway.
  const lax = await startApi(t, as, { audience: [AUDIENCE, as.clientId] })
  t.equal(await verify(lax.app, logoutToken), 'typ_not_access_token')
  const plain = await startApi(t, as)
  const plainReason = await verify(plain.app, idToken)
  t.equal(plainReason, 'audience_mismatch')
})

t.test('step-up: acr and auth_time from extraTokenClaims; the challenge read back by oauth4webapi', async (t) => {
  const { as, grant } = await provider(t)
  const { origin } = await startApi(t, as, { resourceMetadata: { resource: 'https://api.example.com/' } })
  const metadata = 'https://api.example.com/.well-known/oauth-protected-resource'
  const now = Math.floor(Date.now() / 1000)

  const weak = await callProtected(`${origin}/api/transfers`, await grant({ acr: 'silver', auth_time: now }), { method: 'POST' })
  t.equal(weak.status, 401)
  t.same(weak.challenges, [
    { scheme: 'bearer', parameters: { realm: 'api', error: 'insufficient_user_authentication', error_description: 'a stronger login is required: acr gold, platinum', acr_values: 'gold platinum', max_age: '300', resource_metadata: metadata } },
    { scheme: 'dpop', parameters: { algs: 'ES256', resource_metadata: metadata } }
  ])
  const old = await callProtected(`${origin}/api/transfers`, await grant({ acr: 'gold', auth_time: now - 3600 }), { method: 'POST' })
  t.same(old.challenges?.[0]?.parameters, { realm: 'api', error: 'insufficient_user_authentication', error_description: 'a more recent login is required: within 300 seconds', acr_values: 'gold platinum', max_age: '300', resource_metadata: metadata })
  const ok = await callProtected(`${origin}/api/transfers`, await grant({ acr: 'platinum', auth_time: now }), { method: 'POST' })
  t.equal(ok.status, 200)

  // Login and scope both short: the step-up, naming the scope too.
  const both = await callProtected(`${origin}/api/transfers`, await grant({}, undefined, 'read:messages'), { method: 'POST' })
  t.same(both.challenges?.[0]?.parameters, { realm: 'api', error: 'insufficient_user_authentication', error_description: 'token does not state how the user logged in (acr); this route needs a login with acr gold, platinum', scope: 'transfer:funds', acr_values: 'gold platinum', max_age: '300', resource_metadata: metadata })

  // DPoP-bound: the error is on the DPoP challenge.
  const key = await dpopHandle()
  const bound = await callProtected(`${origin}/api/transfers`, await grant({ acr: 'silver', auth_time: now }, key), { method: 'POST', dpop: key })
  t.equal(bound.status, 401)
  t.same(bound.challenges, [
    { scheme: 'bearer', parameters: { realm: 'api', resource_metadata: metadata } },
    { scheme: 'dpop', parameters: { error: 'insufficient_user_authentication', error_description: 'a stronger login is required: acr gold, platinum', acr_values: 'gold platinum', max_age: '300', algs: 'ES256', resource_metadata: metadata } }
  ])
  const boundOk = await callProtected(`${origin}/api/transfers`, await grant({ acr: 'gold', auth_time: now }, key), { method: 'POST', dpop: key })
  t.equal(boundOk.status, 200)
  t.same(as.serverErrors, [])
})

t.test('organizations: org_id from extraTokenClaims, matched with the path', async (t) => {
  const { as, grant } = await provider(t)
  const { origin } = await startApi(t, as, { organization: true })
  const token = await grant({ org_id: 'org_1' })
  t.equal((await callProtected(`${origin}/orgs/org_1/data`, token)).status, 200)
  const other = await callProtected(`${origin}/orgs/org_2/data`, token)
  t.equal(other.status, 401)
  t.same(other.challenges?.[0]?.parameters, { realm: 'api', error: 'invalid_token', error_description: 'token organization is not allowed here' })
  const none = await callProtected(`${origin}/api/private`, await grant())
  t.same(none.challenges?.[0]?.parameters, { realm: 'api', error: 'invalid_token', error_description: 'token has no organization (org_id) and this API requires one' })
})
