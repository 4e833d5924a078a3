/**
 * The testing kit used the way an application uses it: only the published entry points
 * (`fastify-auth0-api` and `fastify-auth0-api/testing`, resolved to dist/), never ../lib. These are
 * the "Testing your routes" recipes (docs/testing.md), run for real.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin from 'fastify-auth0-api'
import { createTestIssuer, type TestIssuer } from 'fastify-auth0-api/testing'
import t, { type Test } from 'tap'

async function buildApp (issuer: TestIssuer): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(auth0Plugin, {
    issuerBaseURL: issuer.issuerBaseURL,
    audience: 'https://api.example.com/',
    env: {},
    // Short windows so rotation and outage tests do not wait.
    cache: { ttl: 1, cooldown: 0, failureBackoff: 0 },
    staleIfError: 1
  })
  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ user: request.claims.sub }))
  return app
}

async function setup (t: Test): Promise<{ app: FastifyInstance, issuer: TestIssuer }> {
  const issuer = await createTestIssuer()
  const app = await buildApp(issuer)
  t.teardown(async () => { await app.close(); await issuer.close() })
  return { app, issuer }
}

const get = async (app: FastifyInstance, token?: string): Promise<{ status: number, body: unknown, headers: Record<string, unknown> }> => {
  const res = await app.inject({ url: '/api/messages', ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}) })
  return { status: res.statusCode, body: res.json(), headers: res.headers }
}

t.test('tokens: granted, forbidden, expired, wrong audience, missing claims, forged', async (t) => {
  const { app, issuer } = await setup(t)
  t.match(await get(app, await issuer.token({ scope: 'read:messages', sub: 'auth0|alice' })), { status: 200, body: { user: 'auth0|alice' } })
  t.equal((await get(app, await issuer.token())).status, 403)
  t.match(await get(app, await issuer.token({ scope: 'read:messages' }, { expiresIn: -60 })), { status: 401, body: { detail: { error: 'invalid_token', error_description: 'token expired' } } })
  t.equal((await get(app, await issuer.token({ scope: 'read:messages', aud: 'https://other.example.com/' }))).status, 401)
  t.match(await get(app, await issuer.token({ scope: 'read:messages', sub: undefined })), { status: 401, body: { detail: { error_description: 'missing required sub claim' } } })
  const forged = await issuer.token({ scope: 'read:messages' }, { signingKey: (await issuer.foreignKey()).privateKey })
  t.equal((await get(app, forged)).status, 401)
  t.equal((await get(app)).status, 401)
})

t.test('key rotation: a new kid is fetched once; keys removed from the JWKS stop verifying', async (t) => {
  const { app, issuer } = await setup(t)
  const before = await issuer.token({ scope: 'read:messages' })
  t.equal((await get(app, before)).status, 200)
  t.same(issuer.requests, { discovery: 1, jwks: 1 })

  await issuer.rotateKeys({ keepPrevious: true })
  const after = await issuer.token({ scope: 'read:messages' })
  t.equal((await get(app, after)).status, 200, 'the unknown kid triggers a refetch (at most once per cache.cooldown)')
  t.equal(issuer.requests.jwks, 2)
  t.equal((await get(app, before)).status, 200, 'the previous key is still published')

  await issuer.rotateKeys()
  await new Promise((resolve) => setTimeout(resolve, 1100)) // past cache.ttl
  t.equal((await get(app, await issuer.token({ scope: 'read:messages' }))).status, 200)
  t.equal((await get(app, before)).status, 401, 'a key no longer published no longer verifies')
})

t.test('outages: cached keys keep verifying; past staleIfError, 503 with Retry-After', async (t) => {
  const { app, issuer } = await setup(t)
  const token = await issuer.token({ scope: 'read:messages' })
  t.equal((await get(app, token)).status, 200)

  issuer.outage({ discovery: 'status-503', jwks: 'reset' })
  await new Promise((resolve) => setTimeout(resolve, 1100)) // keys expired, within staleIfError
  t.equal((await get(app, token)).status, 200, 'served from the cache while the issuer is down')
  await new Promise((resolve) => setTimeout(resolve, 1500)) // past staleIfError
  const down = await get(app, token)
  t.equal(down.status, 503)
  t.same(down.body, { detail: { error: 'temporarily_unavailable', error_description: 'authorization server unreachable, retry later' } })
  t.match(down.headers['retry-after'], /^\d+$/)

  issuer.restore()
  t.equal((await get(app, token)).status, 200, 'back once the issuer is')
})

t.test('a cold start against a hanging issuer fails within the timeout', async (t) => {
  const issuer = await createTestIssuer()
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {}, timeout: 200 })
  app.get('/api/private', { preHandler: app.requireAuth() }, async () => ({ ok: true }))
  issuer.outage({ discovery: 'hang' })
  const started = Date.now()
  const res = await app.inject({ url: '/api/private', headers: { authorization: `Bearer ${await issuer.token()}` } })
  t.equal(res.statusCode, 503)
  t.ok(Date.now() - started < 2000)
})

t.test('another test runner: node:test with plain JavaScript and the built package', async (t) => {
  const run = promisify(execFile)
  const file = new URL('./node-test/kit.test.mjs', import.meta.url).pathname
  const { stdout } = await run(process.execPath, ['--test', '--test-reporter=tap', file], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' }
  })
  t.match(stdout, /# pass 2\n/)
  t.match(stdout, /# fail 0\n/)
})
