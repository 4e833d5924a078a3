/**
 * examples/basic, as an application would test it: the built package and its testing kit.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildBasic } from '../../examples/basic/index.js'
import { expectGrammar } from '../helpers/expect.js'

t.test('basic: public is open, private needs a valid token', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildBasic({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })

  const open = await app.inject({ url: '/api/public' })
  t.equal(open.statusCode, 200)
  t.same(open.json(), { message: 'no token needed' })

  const ok = await app.inject({ url: '/api/private', headers: { authorization: `Bearer ${await issuer.token({ sub: 'auth0|alice' })}` } })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { message: 'any valid token', user: 'auth0|alice' })

  const missing = await app.inject({ url: '/api/private' })
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="api", DPoP algs="ES256"')
  expectGrammar(t, missing)

  const otherAudience = await app.inject({ url: '/api/private', headers: { authorization: `Bearer ${await issuer.token({ aud: 'https://other.example.com/' })}` } })
  t.equal(otherAudience.statusCode, 401)
  t.same(otherAudience.json(), { detail: { error: 'invalid_token', error_description: 'unexpected aud claim value' } })
})

t.test('basic: reads AUTH0_* from the environment and refuses to start without an audience', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => { await issuer.close() })
  const app = await buildBasic({ env: { AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL, AUTH0_AUDIENCE: 'https://api.example.com/' } })
  t.teardown(async () => { await app.close() })
  const ok = await app.inject({ url: '/api/private', headers: { authorization: `Bearer ${await issuer.token()}` } })
  t.equal(ok.statusCode, 200)
  await t.rejects(buildBasic({ env: { AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL } }), /audience is required/)
})
