/**
 * SPEC §1 `fastify.auth0.verify({ method, url, headers })`: verification outside a route (e.g. a
 * WebSocket upgrade). It resolves the claims or throws a typed `AuthError` whose fields and
 * headers are ready for a reply.
 */
import t from 'tap'
import {
  AuthError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  IssuerUnavailableError,
  MissingCredentialsError
} from '../../lib/index.js'
import { harness } from '../helpers/app.js'
import { BARE, bearerChallenge, expectErrorGrammar } from '../helpers/expect.js'

async function caught (promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise
  } catch (err) {
    return err as AuthError
  }
  throw new Error('expected a rejection')
}

t.test('resolves the verified claims', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token({ sub: 'ws-user', scope: 'read:messages' })
  const claims = await h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: `Bearer ${token}` } })
  t.equal(claims.sub, 'ws-user')
  t.equal(claims.iss, h.issuer.issuer)
  t.equal(claims.scope, 'read:messages')
  // With requirements, in each accepted form.
  t.equal((await h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: `Bearer ${token}` } }, 'read:messages')).sub, 'ws-user')
  t.equal((await h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: `Bearer ${token}` } }, ['read:messages'])).sub, 'ws-user')
  t.equal((await h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: `Bearer ${token}` } }, { scopes: ['x', 'read:messages'], match: 'any' })).sub, 'ws-user')
  // An array holding one header value is that value.
  t.equal((await h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: [`Bearer ${token}`] } })).sub, 'ws-user')
})

t.test('no credentials: MissingCredentialsError, even when the requirements say optional', async (t) => {
  const h = await harness(t)
  for (const requirements of [undefined, { optional: true }]) {
    const err = await caught(h.app.auth0.verify({ method: 'GET', url: '/socket', headers: {} }, requirements))
    t.ok(err instanceof MissingCredentialsError)
    t.ok(err instanceof AuthError)
    t.ok(err instanceof Error)
    t.equal(err.name, 'MissingCredentialsError')
    t.equal(err.statusCode, 401)
    t.equal(err.error, 'invalid_request')
    t.equal(err.error_description, 'authorization header missing')
    t.equal(err.message, 'authorization header missing')
    t.equal(err.reason, 'credentials_missing')
    t.strictSame(err.headers, { 'www-authenticate': BARE })
    expectErrorGrammar(t, err)
    t.strictSame(err.toJSON(), { detail: { error: 'invalid_request', error_description: 'authorization header missing' } })
    t.equal(JSON.stringify(err), '{"detail":{"error":"invalid_request","error_description":"authorization header missing"}}')
  }
})

t.test('a bad token: InvalidTokenError with the reason and the challenge', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token({}, { expiresIn: -60 })
  const err = await caught(h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: `Bearer ${token}` } }))
  t.ok(err instanceof InvalidTokenError)
  t.equal(err.statusCode, 401)
  t.equal(err.error, 'invalid_token')
  t.equal(err.error_description, 'token expired')
  t.equal(err.reason, 'token_expired')
  t.equal(err.scheme, 'bearer')
  t.strictSame(err.headers, { 'www-authenticate': bearerChallenge('invalid_token', 'token expired') })
  expectErrorGrammar(t, err)
  t.notOk(String(err.message).includes(token), 'no token in the message')
})

t.test('missing scope: InsufficientScopeError with the required scopes', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token({ scope: 'read:messages' })
  const err = await caught(h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: `Bearer ${token}` } }, ['read:messages', 'write:messages']))
  t.ok(err instanceof InsufficientScopeError)
  t.equal(err.statusCode, 403)
  t.equal(err.error, 'insufficient_scope')
  t.equal(err.reason, 'insufficient_scope')
  t.strictSame((err as InsufficientScopeError).requiredScopes, ['read:messages', 'write:messages'])
  t.strictSame(err.headers, { 'www-authenticate': bearerChallenge('insufficient_scope', 'missing scope write:messages', { scope: 'read:messages write:messages' }) })
  expectErrorGrammar(t, err)
})

t.test('two authorization values (array of length 2): InvalidRequestError 400', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token()
  const err = await caught(h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] } }))
  t.ok(err instanceof InvalidRequestError)
  t.equal(err.statusCode, 400)
  t.equal(err.error, 'invalid_request')
  t.equal(err.reason, 'authorization_header_repeated')
  t.strictSame(err.headers, { 'www-authenticate': bearerChallenge('invalid_request', 'more than one Authorization header') })
  expectErrorGrammar(t, err)
  const empty = await caught(h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: [] } }))
  t.ok(empty instanceof InvalidRequestError, 'an empty array is not "one header"')
})

t.test('invalid requirements are refused before verifying', async (t) => {
  const h = await harness(t)
  await t.rejects(h.app.auth0.verify({ method: 'GET', url: '/', headers: {} }, { match: 'some' } as never), new TypeError('fastify-auth0-api: requireAuth: match must be "all" or "any"'))
})

t.test('issuer down: IssuerUnavailableError with retry-after and no challenge', async (t) => {
  const h = await harness(t, { cache: { failureBackoff: 7 } })
  h.issuer.outage({ discovery: 'status-503' })
  const err = await caught(h.app.auth0.verify({ method: 'GET', url: '/socket', headers: { authorization: `Bearer ${await h.issuer.token()}` } }))
  t.ok(err instanceof IssuerUnavailableError)
  t.equal(err.statusCode, 503)
  t.equal(err.error, 'temporarily_unavailable')
  t.equal(err.reason, 'issuer_unavailable')
  t.equal((err as IssuerUnavailableError).retryAfter, 7)
  t.strictSame(err.headers, { 'retry-after': '7' })
  t.ok(err.cause instanceof Error, 'the fetch failure is kept as the cause')
})
