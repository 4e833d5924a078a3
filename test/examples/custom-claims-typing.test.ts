/**
 * examples/custom-claims-typing: declaration merging types the claims (proved by `npm run
 * typecheck`, which compiles the example with a @ts-expect-error); here, the behaviour.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildCustomClaims, describeCaller } from '../../examples/custom-claims-typing/index.js'

t.test('typed custom claims reach the handlers', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildCustomClaims({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })
  const pro = await issuer.token({ sub: 'auth0|alice', 'https://example.com/roles': ['admin'], 'https://example.com/plan': 'pro', org_id: 'org_1' })
  const me = await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${pro}` } })
  t.same(me.json(), { user: 'auth0|alice', roles: ['admin'], plan: 'pro', organization: 'org_1' })
  t.same((await app.inject({ url: '/api/pro-feature', headers: { authorization: `Bearer ${pro}` } })).json(), { feature: 'enabled' })

  const free = await issuer.token({ sub: 'auth0|bob' })
  const freeMe = await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${free}` } })
  t.same(freeMe.json(), { user: 'auth0|bob', roles: [], plan: 'free', organization: null })
  const upgrade = await app.inject({ url: '/api/pro-feature', headers: { authorization: `Bearer ${free}` } })
  t.equal(upgrade.statusCode, 403)
  t.same(upgrade.json(), { error: 'upgrade_required' })
  t.same(describeCaller({ iss: 'i', sub: 's', aud: 'a', exp: 0, iat: 0 }), { user: 's', roles: [], plan: 'free', organization: null })
})
