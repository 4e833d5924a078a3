/**
 * One error shape: an `AuthError` thrown by `fastify.auth0.verify()` inside a handler reaches
 * Fastify's error handling, whose default body is `{"statusCode","error","message"}`.
 * `fastify.auth0.errorHandler` answers it as a `requireAuth` hook does (status, headers, body, log
 * line, diagnostics hooks) and hands every other error, untouched, to the parent error handler.
 */
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import auth0Plugin, { AuthError, type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, type TestIssuer } from '../../lib/testing/index.js'
import { BARE, bearerChallenge, expectError, expectInvalidToken, expectUnavailable, expectGrammar } from '../helpers/expect.js'

const AUDIENCE = 'https://api.example.com/'

interface Setup { app: FastifyInstance, issuer: TestIssuer, logs: Array<Record<string, unknown>> }

/**
 * Routes: GET /hook (requireAuth), GET /verify (verify() in the handler), GET /scoped (verify()
 * with 'read:messages'), GET /boom (an Error), GET /teapot (an Error with statusCode and headers),
 * POST /validated (a schema validation error).
 */
async function setup (t: Test, install: ((app: FastifyInstance) => void) | undefined, options: Partial<Auth0PluginOptions> = {}): Promise<Setup> {
  const issuer = await createTestIssuer()
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
      done()
    }
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, cache: { failureBackoff: 0 }, ...options })
  install?.(app)
  routes(app)
  await app.ready()
  return { app, issuer, logs }
}

function routes (app: FastifyInstance): void {
  app.get('/hook', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  app.get('/verify', async (request) => ({ sub: (await app.auth0.verify(request)).sub }))
  app.get('/scoped', async (request) => ({ sub: (await app.auth0.verify(request, 'read:messages')).sub }))
  app.get('/boom', async () => { throw new Error('boom') })
  app.get('/teapot', async () => { throw Object.assign(new Error('short and stout'), { statusCode: 418, headers: { 'x-teapot': 'yes' } }) })
  app.post('/validated', { schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } }, async () => ({ ok: true }))
}

/** What a client sees of a reply, without what changes between two runs. */
function seen (res: LightMyRequestResponse): { status: number, headers: Record<string, unknown>, body: string } {
  const { date: _date, ...headers } = res.headers
  return { status: res.statusCode, headers, body: res.body }
}

t.test('without it: verify()\'s AuthError gets Fastify\'s body (the problem this solves), with the plugin\'s headers', async (t) => {
  const { app } = await setup(t, undefined)
  const res = await app.inject({ url: '/verify' })
  t.equal(res.statusCode, 401)
  t.same(res.json(), { statusCode: 401, error: 'Unauthorized', message: 'authorization header missing' })
  t.equal(res.headers['www-authenticate'], BARE)
  expectGrammar(t, res)
})

t.test('app.setErrorHandler(app.auth0.errorHandler): verify() answers exactly as the hook does', async (t) => {
  const { app, issuer, logs } = await setup(t, (app) => { app.setErrorHandler(app.auth0.errorHandler) })
  const expired = await issuer.token({}, { expiresIn: -60 })

  for (const url of ['/hook', '/verify']) {
    await t.test(url, async (t) => {
      expectError(t, await app.inject({ url }), { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: BARE })
      expectInvalidToken(t, await app.inject({ url, headers: { authorization: `Bearer ${expired}` } }), 'token expired')
      expectError(t, await app.inject({ url, headers: { authorization: 'Bearer a b' } }), {
        status: 400, error: 'invalid_request', description: 'Authorization header must carry exactly one token', challenge: bearerChallenge('invalid_request', 'Authorization header must carry exactly one token')
      })
      t.equal((await app.inject({ url, headers: { authorization: `Bearer ${await issuer.token()}` } })).statusCode, 200)
    })
  }
  const hook = await app.inject({ url: '/hook', headers: { authorization: `Bearer ${expired}` } })
  const verify = await app.inject({ url: '/verify', headers: { authorization: `Bearer ${expired}` } })
  t.same(seen(verify), seen(hook), 'the same reply, byte for byte')

  expectError(t, await app.inject({ url: '/scoped', headers: { authorization: `Bearer ${await issuer.token()}` } }), {
    status: 403, error: 'insufficient_scope', description: 'missing scope read:messages', challenge: bearerChallenge('insufficient_scope', 'missing scope read:messages', { scope: 'read:messages' })
  })

  const refusals = logs.filter((l) => l.msg === 'fastify-auth0-api: authentication failed')
  t.ok(refusals.some((l) => l.reason === 'token_expired' && l.statusCode === 401 && typeof l.reqId === 'string'), 'the plugin\'s log line, with the reason')
  t.notOk(JSON.stringify(logs).includes(expired), 'no token in any log line')
})

t.test('503 from verify(): Retry-After, no challenge, logged as the hook logs it', async (t) => {
  const { app, issuer, logs } = await setup(t, (app) => { app.setErrorHandler(app.auth0.errorHandler) })
  issuer.outage({ discovery: 'status-503' })
  expectUnavailable(t, await app.inject({ url: '/verify', headers: { authorization: `Bearer ${await issuer.token()}` } }))
  t.ok(logs.some((l) => l.msg === 'fastify-auth0-api: issuer_unavailable' && l.level === 40))
})

t.test('any other error is untouched: the same reply with and without the handler', async (t) => {
  const plain = await setup(t, undefined)
  const handled = await setup(t, (app) => { app.setErrorHandler(app.auth0.errorHandler) })
  for (const request of [
    { url: '/boom' },
    { url: '/teapot' },
    { method: 'POST' as const, url: '/validated', payload: { n: 'x' } },
    { url: '/nowhere' }
  ]) {
    const [a, b] = await Promise.all([plain.app.inject(request), handled.app.inject(request)])
    t.same(seen(b), seen(a), `${request.url}: ${a.statusCode}`)
  }
  t.equal((await handled.app.inject({ url: '/teapot' })).headers['x-teapot'], 'yes', 'the error\'s own headers still reach the reply')
})

t.test('per route, and from an application\'s own error handler; other errors reach the parent handler', async (t) => {
  const problem = (error: Error & { statusCode?: number }): Record<string, unknown> => ({ type: 'about:blank', title: error.message, status: error.statusCode ?? 500 })
  const { app } = await setup(t, (app) => {
    // The application's own handler, delegating authentication errors to the plugin.
    app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
      if (error instanceof AuthError) return await app.auth0.errorHandler(error, request, reply)
      return await reply.code(error.statusCode ?? 500).type('application/problem+json').send(problem(error))
    })
    app.register(async (child) => {
      child.get('/child/verify', { errorHandler: child.auth0.errorHandler }, async (request) => ({ sub: (await child.auth0.verify(request)).sub }))
      child.get('/child/boom', { errorHandler: child.auth0.errorHandler }, async () => { throw new Error('child boom') })
    })
  })
  for (const url of ['/verify', '/child/verify']) {
    expectError(t, await app.inject({ url }), { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: BARE })
  }
  const boom = await app.inject({ url: '/boom' })
  t.match(boom.headers['content-type'], /^application\/problem\+json/)
  t.same(boom.json(), { type: 'about:blank', title: 'boom', status: 500 })
  const child = await app.inject({ url: '/child/boom' })
  t.equal(child.statusCode, 500)
  t.same(child.json(), { type: 'about:blank', title: 'child boom', status: 500 }, 'passed on to the application\'s handler')
})

t.test('onAuthError and errorResponse run for verify()\'s errors too (an async hook is awaited)', async (t) => {
  const reasons: string[] = []
  const { app } = await setup(t, (app) => { app.setErrorHandler(app.auth0.errorHandler) }, {
    onAuthError: async (error) => { await new Promise((resolve) => setTimeout(resolve, 20)); reasons.push(error.reason) },
    errorResponse: (error, _request, reply) => { reply.type('application/problem+json'); return { title: error.error, status: error.statusCode } }
  })
  const res = await app.inject({ url: '/verify' })
  t.equal(res.statusCode, 401)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.equal(res.headers['www-authenticate'], BARE)
  expectGrammar(t, res)
  t.same(res.json(), { title: 'invalid_request', status: 401 })
  t.same(reasons, ['credentials_missing'])
  const boom = await app.inject({ url: '/boom' })
  t.same(boom.json(), { statusCode: 500, error: 'Internal Server Error', message: 'boom' })
  t.same(reasons, ['credentials_missing'], 'not called for other errors')
})

t.test('the hook and the error handler are named functions (tracing tools such as @fastify/otel name spans after them)', async (t) => {
  const { app } = await setup(t, undefined)
  t.equal(app.requireAuth('read:messages').name, 'auth0RequireAuth')
  t.equal(app.auth0.errorHandler.name, 'auth0ErrorHandler')
})
