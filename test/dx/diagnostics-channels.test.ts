/**
 * Diagnostics channels (SPEC §10), subscribed during real requests (real test issuer, real keys,
 * real Fastify): `fastify-auth0-api:auth` (one message per verification), `fastify-auth0-api:keys`
 * (key-set events) and the tracing channel `fastify-auth0-api:verify`, their payloads and their
 * order. Every payload seen by any test here is searched, deep, for token, proof, key and claim
 * text: only `iss` may appear.
 */
import { randomUUID } from 'node:crypto'
import dc from 'node:diagnostics_channel'
import { exportJWK } from 'jose'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify'
import t, { type Test } from 'tap'
import auth0Plugin, {
  AuthError,
  diagnosticsChannels,
  InvalidTokenError,
  type Auth0PluginOptions,
  type AuthMessage,
  type CacheAdapter,
  type KeysMessage,
  type VerifyContext
} from '../../lib/index.js'
import { createTestIssuer, dpopKey, proof, type TestIssuer } from '../../lib/testing/index.js'
import { BARE, bearerChallenge, expectError, expectInvalidToken, expectUnavailable, expectErrorGrammar, expectGrammar } from '../helpers/expect.js'

const AUDIENCE = 'https://api.example.com/'
const HOST = 'api.example.com'
/** Claim values that must never be published (besides the token and proof strings themselves). */
const SUB = 'user-4f1c-never-published'
const EMAIL = 'secret-claim-value@example.com'

type Seen = { channel: 'auth', message: AuthMessage } | { channel: 'keys', message: KeysMessage } | { channel: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error', context: VerifyContext, snapshot: VerifyContext }

/** Every payload published while any test ran, for the final search. */
const everything: unknown[] = []
/** Token, proof, key and claim text that must appear in no payload. */
const secrets = new Set<string>([SUB, EMAIL])

/** Subscribes to the three channels until the test ends. */
function listen (t: Test): Seen[] {
  const seen: Seen[] = []
  const onAuth = (message: unknown): void => { everything.push(message); seen.push({ channel: 'auth', message: message as AuthMessage }) }
  const onKeys = (message: unknown): void => { everything.push(message); seen.push({ channel: 'keys', message: message as KeysMessage }) }
  const trace = (channel: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error') => (context: VerifyContext): void => {
    everything.push(context)
    seen.push({ channel, context, snapshot: { ...context } })
  }
  const handlers = { start: trace('start'), end: trace('end'), asyncStart: trace('asyncStart'), asyncEnd: trace('asyncEnd'), error: trace('error') }
  dc.subscribe(diagnosticsChannels.auth, onAuth)
  dc.subscribe(diagnosticsChannels.keys, onKeys)
  const tracing = dc.tracingChannel<unknown, VerifyContext>(diagnosticsChannels.verify)
  tracing.subscribe(handlers)
  t.teardown(() => {
    dc.unsubscribe(diagnosticsChannels.auth, onAuth)
    dc.unsubscribe(diagnosticsChannels.keys, onKeys)
    tracing.unsubscribe(handlers)
  })
  return seen
}

const authMessages = (seen: Seen[]): AuthMessage[] => seen.flatMap((s) => s.channel === 'auth' ? [s.message] : [])
const keyMessages = (seen: Seen[]): KeysMessage[] => seen.flatMap((s) => s.channel === 'keys' ? [s.message] : [])
const order = (seen: Seen[]): string[] => seen.filter((s) => s.channel !== 'keys').map((s) => s.channel)

async function remember (issuer: TestIssuer): Promise<void> {
  const jwk = await exportJWK(issuer.currentKey.privateKey)
  for (const member of ['n', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const) if (typeof jwk[member] === 'string') secrets.add(jwk[member])
}

async function mint (issuer: TestIssuer, claims: Record<string, unknown> = {}, options: Parameters<TestIssuer['token']>[1] = {}): Promise<string> {
  const jti = `jti-${randomUUID()}`
  const token = await issuer.token({ sub: SUB, email: EMAIL, jti, ...claims }, options)
  for (const text of [jti, token, ...token.split('.')]) secrets.add(text)
  return token
}

async function setup (t: Test, options: Partial<Auth0PluginOptions> = {}): Promise<{ app: FastifyInstance, issuer: TestIssuer }> {
  const issuer = await createTestIssuer()
  await remember(issuer)
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, cache: { failureBackoff: 0 }, ...options })
  app.get('/items/:id', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({ ok: true }))
  app.get('/optional', { preHandler: app.requireAuth({ optional: true }) }, async (request) => ({ anonymous: request.claims === undefined }))
  app.get('/dpop', { preHandler: app.requireAuth({ dpop: 'required' }) }, async (request) => ({ jkt: request.auth?.jkt }))
  app.get('/verify', async (request) => {
    try {
      return { sub: (await app.auth0.verify(request)).sub }
    } catch (err) {
      thrown.push(err as AuthError)
      throw err
    }
  })
  await app.ready()
  return { app, issuer }
}
const thrown: AuthError[] = []

t.test('fastify-auth0-api:auth: one message per verification, with what was decided', async (t) => {
  const { app, issuer } = await setup(t)
  const seen = listen(t)
  const token = await mint(issuer)
  const auth = { authorization: `Bearer ${token}` }

  // The first request fetches the keys; the token is remembered once seen twice, so the third is a cache hit.
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/items/42', headers: auth })).statusCode, 200)
  const forbidden = await app.inject({ url: '/messages', headers: auth })
  t.equal(forbidden.statusCode, 403)
  const missing = await app.inject({ url: '/items/42' })
  expectError(t, missing, { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: BARE })
  const expired = await app.inject({ url: '/items/7', headers: { authorization: `Bearer ${await mint(issuer, {}, { expiresIn: -60 })}` } })
  expectInvalidToken(t, expired, 'token expired')
  const forged = await app.inject({ url: '/items/7', headers: { authorization: `Bearer ${await mint(issuer, {}, { signingKey: (await issuer.foreignKey()).privateKey })}` } })
  t.equal(forged.statusCode, 401)
  const anonymous = await app.inject({ url: '/optional' })
  t.same(anonymous.json(), { anonymous: true })
  const query = await app.inject({ method: 'POST', url: '/items/1' })
  t.equal(query.statusCode, 404, 'no route, no verification, no message')

  const base = { method: 'GET', issuer: issuer.issuer }
  t.same(authMessages(seen), [
    { outcome: 'accepted', scheme: 'bearer', cached: false, route: '/items/:id', ...base },
    { outcome: 'accepted', scheme: 'bearer', cached: false, route: '/items/:id', ...base },
    { outcome: 'accepted', scheme: 'bearer', cached: true, route: '/items/:id', ...base },
    { outcome: 'refused', reason: 'insufficient_scope', statusCode: 403, scheme: 'bearer', cached: true, route: '/messages', method: 'GET' },
    { outcome: 'refused', reason: 'credentials_missing', statusCode: 401, cached: false, route: '/items/:id', method: 'GET' },
    { outcome: 'refused', reason: 'token_expired', statusCode: 401, scheme: 'bearer', cached: false, route: '/items/:id', method: 'GET' },
    { outcome: 'refused', reason: 'signature_invalid', statusCode: 401, scheme: 'bearer', cached: false, route: '/items/:id', method: 'GET' },
    { outcome: 'accepted', cached: false, route: '/optional', method: 'GET' }
  ])
  // Exactly these members: `t.same` ignores none, but absent optional members must be absent, not undefined.
  t.same(Object.keys(authMessages(seen)[4] as object).sort(), ['cached', 'method', 'outcome', 'reason', 'route', 'statusCode'])
})

t.test('the tracing channel wraps each verification: start, end, asyncStart, asyncEnd, error, in Node\'s order', async (t) => {
  const { app, issuer } = await setup(t)
  const seen = listen(t)
  const token = await mint(issuer)

  // Waits for the key fetch: start and end around the synchronous part, then asyncStart/asyncEnd.
  t.equal((await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  t.same(order(seen), ['start', 'end', 'auth', 'asyncStart', 'asyncEnd'])
  const traced = seen.flatMap((s) => s.channel === 'auth' || s.channel === 'keys' ? [] : [s])
  t.ok(traced.every((s) => s.context === traced[0]?.context), 'one context object per verification')
  t.same(traced[0]?.snapshot, { method: 'GET', route: '/items/:id' }, 'at start: method and route only')
  t.same(traced[1]?.snapshot, { method: 'GET', route: '/items/:id' }, 'at end (of the synchronous part): the same')
  const done = { method: 'GET', route: '/items/:id', outcome: 'accepted', scheme: 'bearer', issuer: issuer.issuer, cached: false }
  t.same(traced[2]?.snapshot, done, 'at asyncStart: the outcome')
  t.same(traced[3]?.snapshot, done, 'at asyncEnd: the same')

  // Warm (the keys and jose's key imported): decided synchronously, so start, auth, end, and
  // error before end for a refusal, as Node's traceSync orders them.
  t.equal((await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  seen.length = 0
  t.equal((await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${await mint(issuer)}` } })).statusCode, 200)
  t.same(order(seen), ['start', 'auth', 'end'])

  seen.length = 0
  const expired = await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${await mint(issuer, {}, { expiresIn: -60 })}` } })
  expectInvalidToken(t, expired, 'token expired')
  t.same(order(seen), ['start', 'auth', 'error', 'end'])
  const failed = seen.find((s) => s.channel === 'error')
  const error = failed?.channel === 'error' ? failed.context.error : undefined
  t.ok(error instanceof InvalidTokenError, 'the AuthError subclass')
  t.equal(error?.reason, 'token_expired')
  t.equal(error?.message, 'token expired')
  t.equal(error?.cause, undefined, 'no cause (jose keeps the claims on its errors)')
  t.equal(error?.headers['www-authenticate'], expired.headers['www-authenticate'], 'the reply\'s headers')
  expectErrorGrammar(t, error)
  t.match(failed?.channel === 'error' ? failed.snapshot : {}, { outcome: 'refused', reason: 'token_expired', statusCode: 401, scheme: 'bearer', cached: false })

  // A subscriber changing what it got cannot change the reply.
  const vandal = (context: unknown): void => { (context as VerifyContext).error!.headers['www-authenticate'] = 'vandalised' }
  const errors = dc.tracingChannel<unknown, VerifyContext>(diagnosticsChannels.verify).error
  errors.subscribe(vandal)
  t.teardown(() => { errors.unsubscribe(vandal) })
  const again = await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${await mint(issuer, {}, { expiresIn: -60 })}` } })
  t.equal(again.headers['www-authenticate'], bearerChallenge('invalid_token', 'token expired'))
  expectGrammar(t, again)
  const missing = await app.inject({ url: '/items/1' })
  t.equal(missing.headers['www-authenticate'], BARE, 'nor the refusal prepared for the route')
  expectGrammar(t, missing)
})

t.test('a synchronous verification stays synchronous while subscribed: the hook calls done before it returns', async (t) => {
  const issuer = await createTestIssuer()
  await remember(issuer)
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {} })
  const hook = app.requireAuth() as unknown as (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => unknown
  const returned: Array<{ value: unknown, doneBeforeReturn: boolean }> = []
  app.get('/sync', {
    preHandler: function (request, reply, done) {
      let called = false
      const value = hook.call(this, request, reply, (err) => { called = true; done(err) })
      returned.push({ value, doneBeforeReturn: called })
      // A hook that waited returns its promise (Fastify awaits it) and does not call done.
      if (value instanceof Promise) value.then(() => { done() }, done)
    }
  }, async () => ({ ok: true }))
  await app.ready()
  const seen = listen(t)
  const token = await mint(issuer)
  for (let i = 0; i < 4; i++) t.equal((await app.inject({ url: '/sync', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  t.match(returned[0], { value: Promise, doneBeforeReturn: false }, 'the first request waits for the keys')
  t.same(returned.slice(2), [{ value: undefined, doneBeforeReturn: true }, { value: undefined, doneBeforeReturn: true }], 'warm: no promise, done called at once')
  t.same(authMessages(seen).map((m) => m.cached), [false, false, true, true])
})

t.test('fastify.auth0.verify() is observed too: route undefined, the thrown error keeps its cause, the published one has none', async (t) => {
  const { app, issuer } = await setup(t)
  const seen = listen(t)
  const ok = await app.inject({ url: '/verify', headers: { authorization: `Bearer ${await mint(issuer)}` } })
  t.same(ok.json(), { sub: SUB })
  thrown.length = 0
  const expired = await app.inject({ url: '/verify', headers: { authorization: `Bearer ${await mint(issuer, {}, { expiresIn: -60 })}` } })
  t.equal(expired.statusCode, 401)
  t.same(authMessages(seen), [
    { outcome: 'accepted', scheme: 'bearer', issuer: issuer.issuer, cached: false, route: undefined, method: 'GET' },
    { outcome: 'refused', reason: 'token_expired', statusCode: 401, scheme: 'bearer', cached: false, route: undefined, method: 'GET' }
  ])
  const failed = seen.find((s) => s.channel === 'error')
  const published = failed?.channel === 'error' ? failed.context.error : undefined
  t.equal(thrown.length, 1)
  t.not(published, thrown[0], 'a copy')
  t.ok(thrown[0]?.cause !== undefined, 'the caller\'s error keeps its cause')
  t.equal(published?.cause, undefined)
  t.equal(published?.reason, thrown[0]?.reason)
})

t.test('outcome error: issuer unreachable (503) and a failing resolver (500)', async (t) => {
  const { app, issuer } = await setup(t)
  const seen = listen(t)
  issuer.outage({ discovery: 'status-503' })
  expectUnavailable(t, await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${await mint(issuer)}` } }))
  t.same(authMessages(seen), [{ outcome: 'error', reason: 'issuer_unavailable', statusCode: 503, cached: false, route: '/items/:id', method: 'GET' }])
  const failed = seen.find((s) => s.channel === 'error')
  t.equal(failed?.channel === 'error' ? failed.context.error?.cause : 'absent', undefined, 'the fetch error stays in the log, out of the message')
  t.match(keyMessages(seen), [{ type: 'fetch_failed', issuer: issuer.issuer, document: 'discovery' }])

  const resolverIssuer = await createTestIssuer()
  const other = Fastify()
  t.teardown(async () => { await other.close(); await resolverIssuer.close() })
  await other.register(auth0Plugin, { domains: () => { throw new Error(`resolver down ${EMAIL}`) }, audience: AUDIENCE, env: {} })
  other.get('/r', { preHandler: other.requireAuth() }, async () => ({}))
  seen.length = 0
  const res = await other.inject({ url: '/r', headers: { authorization: `Bearer ${await mint(resolverIssuer)}` } })
  t.equal(res.statusCode, 500)
  t.same(authMessages(seen), [{ outcome: 'error', reason: 'domains_resolver_failed', statusCode: 500, cached: false, route: '/r', method: 'GET' }])
})

t.test('DPoP: the scheme, the refusal of a bad proof, and no proof text anywhere', async (t) => {
  const { app, issuer } = await setup(t)
  const seen = listen(t)
  const key = await dpopKey()
  for (const member of ['d', 'x', 'y'] as const) if (typeof key.privateJwk[member] === 'string') secrets.add(key.privateJwk[member])
  secrets.add(key.jkt)
  const token = await mint(issuer, {}, { dpopKey: key })
  const send = async (method: string): Promise<number> => {
    const dpop = await proof({ key, url: `http://${HOST}/dpop`, accessToken: token, method })
    secrets.add(dpop)
    return (await app.inject({ url: '/dpop', headers: { host: HOST, authorization: `DPoP ${token}`, dpop } })).statusCode
  }
  t.equal(await send('GET'), 200)
  t.equal(await send('POST'), 401)
  t.match(authMessages(seen), [
    { outcome: 'accepted', scheme: 'dpop', issuer: issuer.issuer, route: '/dpop' },
    { outcome: 'refused', reason: 'proof_htm_mismatch', statusCode: 401, scheme: 'dpop', route: '/dpop' }
  ])
})

t.test('fastify-auth0-api:keys: every key-set event, errors as plain copies', async (t) => {
  const seenKeys: Array<{ type: string }> = []
  const failures: Error[] = []
  // A Redis-like client error: the command's arguments (here the document being cached) hang on it.
  const adapter: CacheAdapter = {
    async get (key) { throw Object.assign(new Error('connection lost', { cause: 'socket closed' }), { code: 'ECONNRESET', command: { name: 'get', args: [key] } }) },
    async set (key, value) {
      const error = Object.assign(new Error('READONLY You can\'t write against a read only replica.', { cause: { value } }), { command: { name: 'set', args: [key, JSON.stringify(value)] } })
      failures.push(error)
      throw error
    },
    async delete () {}
  }
  const { app, issuer } = await setup(t, { cache: { failureBackoff: 0, adapter }, onKeySetEvent: (event) => { seenKeys.push(event) } })
  const seen = listen(t)
  issuer.setCacheControl({ discovery: 'max-age=0', jwks: 'max-age=0' })
  const token = await mint(issuer)
  t.equal((await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  issuer.outage({ jwks: 'status-503', discovery: 'status-503' })
  t.equal((await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${await mint(issuer)}` } })).statusCode, 200, 'stale keys still verify')
  // Stale keys are served at once and refreshed behind the request: `stale` comes when that
  // refresh fails, and set failures when the write settles, both off the request path.
  for (let i = 0; i < 100 && !(seenKeys.some((k) => k.type === 'stale') && failures.length > 0); i++) await new Promise((resolve) => setTimeout(resolve, 50))

  const keys = keyMessages(seen)
  t.same(keys.map((k) => k.type), seenKeys.map((k) => k.type), 'the same events as onKeySetEvent, in the same order')
  const types = new Set<string>(keys.map((k) => k.type))
  for (const type of ['fetched', 'fetch_failed', 'stale', 'cache_failed']) t.ok(types.has(type), `${type} published`)
  t.match(keys.find((k) => k.type === 'fetched'), { type: 'fetched', issuer: issuer.issuer, url: issuer.discoveryUrl, document: 'discovery' })
  t.match(keys.find((k) => k.type === 'stale'), { type: 'stale', issuer: issuer.issuer, expiredSeconds: Number })
  const setFailure = keys.find((k) => k.type === 'cache_failed' && k.operation === 'set')
  t.ok(failures.length > 0 && setFailure !== undefined)
  const error = setFailure !== undefined && 'error' in setFailure ? setFailure.error : undefined
  t.ok(error instanceof Error)
  t.equal(error?.message, failures[0]?.message, 'the message stays')
  t.not(error, failures[0], 'a copy')
  t.equal((error as unknown as Record<string, unknown>).command, undefined, 'the command and its arguments are not published')
  t.match(error?.cause, { message: '(object)' }, 'a cause that is no Error: only its type (it could be the document)')
  const getFailure = keys.find((k) => k.type === 'cache_failed' && k.operation === 'get')
  const getError = getFailure !== undefined && 'error' in getFailure ? getFailure.error as Error & { code?: string } : undefined
  t.equal(getError?.code, 'ECONNRESET', 'the code stays')
  t.match(getError?.cause, { message: 'socket closed' }, 'a string cause stays')
  const fetchFailure = keys.find((k) => k.type === 'fetch_failed')
  t.match(fetchFailure, { type: 'fetch_failed', issuer: issuer.issuer, error: { name: 'IssuerFetchError' } })
})

t.test('no subscriber: nothing is published and nothing changes', async (t) => {
  for (const name of Object.values(diagnosticsChannels)) t.notOk(dc.hasSubscribers(name), `${name}: no subscriber left`)
  const tracing = dc.tracingChannel(diagnosticsChannels.verify)
  t.notOk(tracing.hasSubscribers)
  const { app, issuer } = await setup(t)
  const before = everything.length
  t.equal((await app.inject({ url: '/items/1', headers: { authorization: `Bearer ${await mint(issuer)}` } })).statusCode, 200)
  t.equal((await app.inject({ url: '/items/1' })).statusCode, 401)
  t.equal(everything.length, before)
})

t.test('no payload carries a token, a proof, a key or a claim value other than iss', async (t) => {
  t.ok(everything.length > 50, `${everything.length} payloads searched`)
  const text = everything.map((payload) => dump(payload)).join('\n')
  for (const secret of secrets) {
    if (text.includes(secret)) t.fail(`published: ${secret.slice(0, 40)}…`)
  }
  t.pass(`${secrets.size} secrets searched for`)
})

/** Everything reachable from a value: own properties (non-enumerable ones of errors included), deep. */
function dump (value: unknown, seen = new Set<unknown>()): string {
  if (typeof value !== 'object' || value === null) return String(value)
  if (seen.has(value)) return ''
  seen.add(value)
  const parts: string[] = []
  for (const key of Reflect.ownKeys(value)) {
    const member = (value as Record<string | symbol, unknown>)[key]
    parts.push(`${String(key)}=${dump(member, seen)}`)
  }
  return parts.join(' ')
}
