/**
 * The published shape, tested against the built package (dist/, built by `npm test`'s pretest):
 * `import auth0Plugin from 'fastify-auth0-api'` and `require('fastify-auth0-api')` both give the
 * plugin, with the error classes as named exports / properties.
 */
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import t from 'tap'

const require = createRequire(import.meta.url)

t.test('ESM import of the built package', async (t) => {
  const mod = await import('fastify-auth0-api')
  t.type(mod.default, 'function')
  t.equal(mod.auth0Plugin, mod.default)
  t.type(mod.AuthError, 'function')
  t.ok(new mod.InvalidTokenError('x', 'y') instanceof mod.AuthError)
  const testing = await import('fastify-auth0-api/testing')
  t.type(testing.createTestIssuer, 'function')
})

t.test('require() of the built package gives the plugin, and it works', async (t) => {
  const plugin = require('fastify-auth0-api')
  t.type(plugin, 'function')
  t.type(plugin.AuthError, 'function')
  t.equal(plugin.default, plugin)
  const { createTestIssuer } = require('fastify-auth0-api/testing')
  const issuer = await createTestIssuer()
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  app.get('/p', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  const ok = await app.inject({ url: '/p', headers: { authorization: `Bearer ${await issuer.token()}` } })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { sub: 'test-user' })
  const missing = await app.inject({ url: '/p' })
  t.equal(missing.statusCode, 401)
})

t.test('the testing kit refuses to run with NODE_ENV=production', async (t) => {
  const { createTestIssuer } = await import('fastify-auth0-api/testing')
  const previous = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  t.teardown(() => { process.env.NODE_ENV = previous })
  await t.rejects(createTestIssuer(), /refuses to run with NODE_ENV=production/)
})
