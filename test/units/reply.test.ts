/**
 * lib/http/reply.ts on its own, in a real Fastify app (inject): the reply an `AuthError` becomes
 * (status, every header it carries, JSON content type, the `{"detail":…}` body as one string), the
 * log line per status class (info with reason and status for 4xx, warn for 503, error for 500,
 * with the cause, never the token), the hooks path, and the error handler that answers an
 * `AuthError` and passes anything else on. The focused file of the mutation run for reply.ts.
 */
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { createAuthErrorHandler, sendAuthError } from '../../lib/http/reply.js'
import {
  AuthError,
  InsufficientScopeError,
  InternalAuthError,
  InvalidRequestError,
  InvalidTokenError,
  IssuerUnavailableError,
  UseDpopNonceError
} from '../../lib/errors.js'
import { resolveDiagnostics } from '../../lib/diagnostics/index.js'
import { expectGrammar } from '../helpers/expect.js'

interface Line { level: number, msg: string, reason?: string, statusCode?: number, err?: { message?: string } }

async function app (t: Test, make: () => AuthError | Error, diagnostics = resolveDiagnostics({})): Promise<{ fastify: FastifyInstance, lines: () => Line[] }> {
  const raw: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, callback) { raw.push(chunk.toString()); callback() } })
  const fastify = Fastify({ logger: { level: 'info', stream } })
  fastify.get('/send', async (request, reply) => await sendAuthError(request, reply, make() as AuthError, diagnostics))
  fastify.get('/throw', { errorHandler: createAuthErrorHandler(diagnostics) }, async () => { throw make() })
  await fastify.ready()
  t.teardown(async () => { await fastify.close() })
  return { fastify, lines: () => raw.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line).filter((l) => l.msg.startsWith('fastify-auth0-api')) }
}

function withHeaders<E extends AuthError> (err: E, headers: Record<string, string>): E {
  err.headers = headers
  return err
}

const CHALLENGE = 'Bearer realm="api", error="invalid_token", error_description="token expired"'

t.test('a 4xx: status, its headers, JSON body as one string, one info line with reason and status', async (t) => {
  for (const path of ['/send', '/throw']) {
    const { fastify, lines } = await app(t, () => withHeaders(new InvalidTokenError('token_expired', 'token expired', { scheme: 'bearer' }), { 'www-authenticate': CHALLENGE }))
    const res = await fastify.inject({ url: path })
    t.equal(res.statusCode, 401, `${path}: status`)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8', `${path}: content type`)
    t.equal(res.body, '{"detail":{"error":"invalid_token","error_description":"token expired"}}', `${path}: body`)
    t.equal(res.headers['www-authenticate'], CHALLENGE, `${path}: challenge`)
    expectGrammar(t, res)
    t.match(lines(), [{ level: 30, msg: 'fastify-auth0-api: authentication failed', reason: 'token_expired', statusCode: 401 }], `${path}: one info line`)
    t.equal(lines().length, 1)
    t.equal(lines()[0]?.err, undefined, 'no error object on a 4xx line')
  }
})

t.test('every header the error carries is sent (DPoP-Nonce with the challenge)', async (t) => {
  const { fastify } = await app(t, () => withHeaders(new UseDpopNonceError('nonce_missing', 'nonce required', 'n'.repeat(43)), { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="nonce required", algs="ES256"', 'dpop-nonce': 'n'.repeat(43) }))
  const res = await fastify.inject({ url: '/send' })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['dpop-nonce'], 'n'.repeat(43))
  t.equal(res.headers['www-authenticate'], 'DPoP error="use_dpop_nonce", error_description="nonce required", algs="ES256"')
})

t.test('403: the same body shape', async (t) => {
  const { fastify } = await app(t, () => withHeaders(new InsufficientScopeError(['read:a'], 'missing scope read:a', 'bearer'), { 'www-authenticate': 'Bearer realm="api", error="insufficient_scope", error_description="missing scope read:a", scope="read:a"' }))
  const res = await fastify.inject({ url: '/send' })
  t.equal(res.statusCode, 403)
  t.equal(res.body, '{"detail":{"error":"insufficient_scope","error_description":"missing scope read:a"}}')
})

t.test('the body of one (error, description) is built once and reused; another description gets its own', async (t) => {
  let n = 0
  const { fastify } = await app(t, () => new InvalidTokenError('r', n++ % 2 === 0 ? 'first text' : 'second text'))
  const bodies = await Promise.all([1, 2, 3, 4].map(async () => (await fastify.inject({ url: '/send' })).body))
  t.strictSame(bodies.sort(), [
    '{"detail":{"error":"invalid_token","error_description":"first text"}}',
    '{"detail":{"error":"invalid_token","error_description":"first text"}}',
    '{"detail":{"error":"invalid_token","error_description":"second text"}}',
    '{"detail":{"error":"invalid_token","error_description":"second text"}}'
  ])
})

/** Counts the serialisations of error bodies (`toJSON`), passing every call through. */
function countSerialisations (t: Test): () => number {
  const original = AuthError.prototype.toJSON
  let calls = 0
  AuthError.prototype.toJSON = function (this: AuthError) { calls++; return original.call(this) }
  t.teardown(() => { AuthError.prototype.toJSON = original })
  return () => calls
}

t.test('a body is serialised once per (error, description), however often it is sent', async (t) => {
  const serialised = countSerialisations(t)
  let description = 'memo: once'
  const { fastify } = await app(t, () => new InvalidTokenError('r', description))
  for (let i = 0; i < 3; i++) t.equal((await fastify.inject({ url: '/send' })).statusCode, 401)
  t.equal(serialised(), 1, 'three replies, one serialisation')
  description = 'memo: another'
  await fastify.inject({ url: '/send' })
  await fastify.inject({ url: '/send' })
  t.equal(serialised(), 2, 'another description: its own, once')
})

t.test('the memo holds at most 1000 descriptions per error code; beyond that a body is serialised per reply', async (t) => {
  const serialised = countSerialisations(t)
  let description = ''
  // invalid_request: a code no other test of this file sends, so its memo starts empty here.
  const { fastify } = await app(t, () => new InvalidRequestError('r', description))
  for (let i = 0; i < 1000; i++) {
    description = `description ${i}`
    await fastify.inject({ url: '/send' })
  }
  t.equal(serialised(), 1000)
  description = 'description 0'
  await fastify.inject({ url: '/send' })
  description = 'description 999'
  await fastify.inject({ url: '/send' })
  t.equal(serialised(), 1000, 'the first 1000 are remembered')
  description = 'description 1000'
  const res = await fastify.inject({ url: '/send' })
  await fastify.inject({ url: '/send' })
  t.equal(serialised(), 1002, 'the 1001st is not: serialised for each reply')
  t.equal(res.body, '{"detail":{"error":"invalid_request","error_description":"description 1000"}}')
})

t.test('a 503 is logged at warn with its cause, a 500 at error; neither names more than the reason', async (t) => {
  const outage = await app(t, () => withHeaders(new IssuerUnavailableError('issuer_unavailable', 'authorization server unreachable, retry later', 7, { cause: new Error('connect ECONNREFUSED') }), { 'retry-after': '7' }))
  const down = await outage.fastify.inject({ url: '/send' })
  t.equal(down.statusCode, 503)
  t.equal(down.headers['retry-after'], '7')
  t.equal(down.headers['www-authenticate'], undefined)
  t.match(outage.lines(), [{ level: 40, msg: 'fastify-auth0-api: issuer_unavailable', reason: 'issuer_unavailable', err: { message: 'connect ECONNREFUSED' } }])

  const broken = await app(t, () => new InternalAuthError('unexpected', { cause: new TypeError('boom') }))
  const res = await broken.fastify.inject({ url: '/send' })
  t.equal(res.statusCode, 500)
  t.equal(res.body, '{"detail":{"error":"internal_server_error","error_description":"internal error"}}')
  t.match(broken.lines(), [{ level: 50, msg: 'fastify-auth0-api: unexpected', reason: 'unexpected', err: { message: 'boom' } }])

  const causeless = await app(t, () => new InternalAuthError('check_error'))
  await causeless.fastify.inject({ url: '/send' })
  t.match(causeless.lines(), [{ level: 50, msg: 'fastify-auth0-api: check_error', reason: 'check_error', err: { message: 'internal error' } }], 'without a cause, the error itself')
})

t.test('with hooks: the hooks see the error, the reply is the same', async (t) => {
  const seen: string[] = []
  const { fastify } = await app(t, () => withHeaders(new InvalidTokenError('token_expired', 'token expired'), { 'www-authenticate': CHALLENGE }), resolveDiagnostics({ onAuthError: async (err) => { seen.push(err.reason) } }))
  for (const path of ['/send', '/throw']) {
    const res = await fastify.inject({ url: path })
    t.equal(res.statusCode, 401)
    t.equal(res.body, '{"detail":{"error":"invalid_token","error_description":"token expired"}}')
    t.equal(res.headers['www-authenticate'], CHALLENGE)
  }
  t.strictSame(seen, ['token_expired', 'token_expired'])
})

t.test('the error handler passes any other error on, untouched (Fastify\'s default reply)', async (t) => {
  const { fastify, lines } = await app(t, () => Object.assign(new Error('not ours'), { statusCode: 418 }))
  const res = await fastify.inject({ url: '/throw' })
  t.equal(res.statusCode, 418)
  t.strictSame(res.json(), { statusCode: 418, error: 'I\'m a Teapot', message: 'not ours' })
  t.equal(res.headers['www-authenticate'], undefined)
  t.strictSame(lines(), [], 'no line of ours')
})
