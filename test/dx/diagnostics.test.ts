/**
 * Diagnostics: `onAuthError` sees every failure a `requireAuth` hook answers (awaited, its own
 * errors logged and swallowed), `errorResponse` formats the body while status and authentication
 * headers stay the plugin's, and the log line names the reason and request id, never the token.
 */
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import t, { type Test } from 'tap'
import auth0Plugin, { AuthError, InsufficientScopeError, InvalidTokenError, MissingCredentialsError, type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, type TestIssuer } from '../../lib/testing/index.js'
import { expectGrammar, expectErrorGrammar } from '../helpers/expect.js'

const AUDIENCE = 'https://api.example.com/'

interface Setup { app: FastifyInstance, issuer: TestIssuer, logs: Array<Record<string, unknown>> }

async function setup (t: Test, options: Partial<Auth0PluginOptions>, routes?: (app: FastifyInstance) => void): Promise<Setup> {
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
  app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ sub: request.claims.sub }))
  routes?.(app)
  await app.ready()
  return { app, issuer, logs }
}

t.test('onAuthError sees every failure, with the error and the request, and nothing else', async (t) => {
  const seen: Array<{ error: AuthError, url: string, id: string }> = []
  const { app, issuer } = await setup(t, { onAuthError: (error, request) => { seen.push({ error, url: request.url, id: request.id }) } })

  const ok = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token({ scope: 'read:messages' })}` } })
  t.equal(ok.statusCode, 200)
  t.equal(seen.length, 0, 'not called on success')

  const missing = await app.inject({ url: '/messages?x=1' })
  const forbidden = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token()}` } })
  const expired = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token({}, { expiresIn: -60 })}` } })
  const malformed = await app.inject({ url: '/messages', headers: { authorization: 'Bearer a b' } })
  t.same([missing, forbidden, expired, malformed].map((r) => r.statusCode), [401, 403, 401, 400])
  t.same(seen.map((s) => [s.error.constructor.name, s.error.reason, s.error.statusCode]), [
    ['MissingCredentialsError', 'credentials_missing', 401],
    ['InsufficientScopeError', 'insufficient_scope', 403],
    ['InvalidTokenError', 'token_expired', 401],
    ['InvalidRequestError', 'authorization_header_malformed', 400]
  ])
  t.ok(seen[0]?.error instanceof MissingCredentialsError && seen[1]?.error instanceof InsufficientScopeError && seen[2]?.error instanceof InvalidTokenError)
  t.equal(seen[0]?.url, '/messages?x=1', 'the Fastify request is passed')
  t.match(seen[1]?.error.headers['www-authenticate'], /error="insufficient_scope", error_description="missing scope read:messages", scope="read:messages"/, 'headers are filled before the hook runs')
  expectErrorGrammar(t, seen[1]?.error)
  t.equal(new Set(seen.map((s) => s.id)).size, 4)
})

t.test('an async onAuthError is awaited before the reply goes out', async (t) => {
  const order: string[] = []
  const { app } = await setup(t, {
    onAuthError: async () => {
      await new Promise((resolve) => setTimeout(resolve, 50))
      order.push('hook done')
    }
  }, (app) => { app.addHook('onSend', async () => { order.push('reply sent') }) })
  const res = await app.inject({ url: '/messages' })
  t.equal(res.statusCode, 401)
  t.same(order, ['hook done', 'reply sent'])
})

t.test('a failing onAuthError is logged and swallowed: the reply is the default one', async (t) => {
  for (const [name, hook] of [
    ['throws', () => { throw new Error('metrics down') }],
    ['rejects', async () => { throw new Error('metrics down') }]
  ] as const) {
    const { app, issuer, logs } = await setup(t, { onAuthError: hook })
    const token = await issuer.token({}, { expiresIn: -60 })
    const res = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 401, name)
    t.same(res.json(), { detail: { error: 'invalid_token', error_description: 'token expired' } })
    t.match(res.headers['www-authenticate'], /^Bearer realm="api", error="invalid_token", error_description="token expired"/)
    expectGrammar(t, res)
    const failure = logs.find((l) => l.msg === 'fastify-auth0-api: onAuthError hook failed')
    t.match(failure, { level: 50, reason: 'token_expired', err: { message: 'metrics down' } }, `${name}: logged at error with the reason`)
    t.notMatch(JSON.stringify(logs), token, 'the token is never logged')
  }
})

t.test('each failure is logged at info with its reason and the request id, never the token', async (t) => {
  const { app, issuer, logs } = await setup(t, {})
  const token = await issuer.token({ iss: 'https://elsewhere.example.com/' })
  const res = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 401)
  const line = logs.find((l) => l.msg === 'fastify-auth0-api: authentication failed')
  t.match(line, { level: 30, reason: 'issuer_not_allowed', statusCode: 401, reqId: /^req-/ })
  t.notMatch(JSON.stringify(logs), token.split('.')[1] as string)
})

t.test('errorResponse formats the body; status and authentication headers stay', async (t) => {
  const { app, issuer } = await setup(t, {
    errorResponse: (error, request, reply) => {
      reply.type('application/problem+json')
      return { type: `https://errors.example.com/${error.reason}`, title: error.error, status: error.statusCode, detail: error.error_description, instance: request.url }
    }
  }, (app) => {
    // A response schema the application declares for 401 must not reshape the plugin's body.
    app.get('/with-schema', {
      preHandler: app.requireAuth(),
      schema: { response: { 401: { type: 'object', properties: { message: { type: 'string' } } } } }
    }, async () => ({ ok: true }))
  })
  const forbidden = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token()}` } })
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.same(forbidden.json(), { type: 'https://errors.example.com/insufficient_scope', title: 'insufficient_scope', status: 403, detail: 'missing scope read:messages', instance: '/messages' })
  t.equal(forbidden.headers['www-authenticate'], 'Bearer realm="api", error="insufficient_scope", error_description="missing scope read:messages", scope="read:messages", DPoP algs="ES256"')
  expectGrammar(t, forbidden)

  const missing = await app.inject({ url: '/with-schema' })
  t.equal(missing.statusCode, 401)
  t.same(missing.json(), { type: 'https://errors.example.com/credentials_missing', title: 'invalid_request', status: 401, detail: 'authorization header missing', instance: '/with-schema' })
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="api", DPoP algs="ES256"')
  expectGrammar(t, missing)
})

t.test('errorResponse may return a string, a Buffer, or undefined for the default body', async (t) => {
  const answers: unknown[] = ['{"error":"denied"}', Buffer.from('plain refusal'), undefined]
  let next = 0
  const { app } = await setup(t, {
    errorResponse: (_error, _request, reply) => {
      const answer = answers[next++]
      if (Buffer.isBuffer(answer)) reply.type('text/plain; charset=utf-8')
      return answer
    }
  })
  const text = await app.inject({ url: '/messages' })
  t.equal(text.statusCode, 401)
  t.equal(text.headers['content-type'], 'application/json; charset=utf-8', 'JSON unless the hook says otherwise')
  t.equal(text.body, '{"error":"denied"}')
  const buffer = await app.inject({ url: '/messages' })
  t.equal(buffer.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(buffer.body, 'plain refusal')
  const fallback = await app.inject({ url: '/messages' })
  t.same(fallback.json(), { detail: { error: 'invalid_request', error_description: 'authorization header missing' } })
  t.equal(fallback.headers['content-type'], 'application/json; charset=utf-8')
})

t.test('a failing errorResponse is logged and the default body goes out', async (t) => {
  for (const [name, hook, message] of [
    ['throws', (_e: AuthError, _r: FastifyRequest, reply: { type: (t: string) => unknown }) => { reply.type('application/problem+json'); throw new Error('formatter bug') }, 'formatter bug'],
    ['rejects', async () => { throw new Error('formatter bug') }, 'formatter bug'],
    ['unserialisable', () => ({ big: 1n }), 'Do not know how to serialize a BigInt']
  ] as const) {
    const { app, logs } = await setup(t, { errorResponse: hook as never })
    const res = await app.inject({ url: '/messages' })
    t.equal(res.statusCode, 401, name)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    t.same(res.json(), { detail: { error: 'invalid_request', error_description: 'authorization header missing' } })
    t.equal(res.headers['www-authenticate'], 'Bearer realm="api", DPoP algs="ES256"')
    expectGrammar(t, res)
    t.match(logs.find((l) => l.msg === 'fastify-auth0-api: errorResponse hook failed, default body sent'), { level: 50, reason: 'credentials_missing', err: { message } })
  }
})

t.test('an outage keeps Retry-After with a custom body; both hooks see the same error', async (t) => {
  const seen: AuthError[] = []
  const { app, issuer } = await setup(t, {
    onAuthError: (error) => { seen.push(error) },
    errorResponse: (error) => { seen.push(error); return { code: error.error } }
  })
  issuer.outage({ discovery: 'status-503' })
  const res = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token({ scope: 'read:messages' })}` } })
  t.equal(res.statusCode, 503)
  t.same(res.json(), { code: 'temporarily_unavailable' })
  t.match(res.headers['retry-after'], /^\d+$/)
  t.equal(res.headers['www-authenticate'], undefined)
  expectGrammar(t, res)
  t.equal(seen.length, 2)
  t.equal(seen[0], seen[1])
})

t.test('start-up refuses hooks that are not functions', async (t) => {
  for (const name of ['onAuthError', 'errorResponse']) {
    const app = Fastify()
    await t.rejects(async () => {
      await app.register(auth0Plugin, { issuerBaseURL: 'https://tenant.example.com/', audience: AUDIENCE, env: {}, [name]: 'log' })
    }, { message: `fastify-auth0-api: ${name} must be a function` })
    await app.close()
  }
})
