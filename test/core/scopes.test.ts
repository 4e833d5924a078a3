/**
 * SPEC §1 `requireAuth` and §3 step 8: scopes. 403 `insufficient_scope` with `scope="…"` in the
 * challenge; whole-value matching over a space-separated string or an array; all/any; any claim.
 * Route specs are validated when the route is declared.
 */
import t from 'tap'
import Fastify from 'fastify'
import auth0Plugin from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { bearerChallenge, expectError } from '../helpers/expect.js'

const issuer = await createTestIssuer()
const app = Fastify()
await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {} })
const ok = async (request: { claims: { sub: string } }): Promise<{ sub: string }> => ({ sub: request.claims.sub })
app.get('/none', { preHandler: app.requireAuth() }, ok)
app.get('/empty-list', { preHandler: app.requireAuth([]) }, ok)
app.get('/messages', { preHandler: app.requireAuth('read:messages') }, ok)
app.get('/all', { preHandler: app.requireAuth(['read:data', 'write:data']) }, ok)
app.get('/all-explicit', { preHandler: app.requireAuth({ scopes: ['read:data', 'write:data'], match: 'all' }) }, ok)
app.get('/any', { preHandler: app.requireAuth({ scopes: ['admin', 'owner'], match: 'any' }) }, ok)
app.get('/permissions', { preHandler: app.requireAuth({ scopes: 'read:messages', claim: 'permissions' }) }, ok)
app.get('/permissions-any', { preHandler: app.requireAuth({ scopes: ['admin', 'owner'], match: 'any', claim: 'permissions' }) }, ok)
app.get('/scp', { preHandler: app.requireAuth({ scopes: ['read:messages'], claim: 'scp' }) }, ok)
app.get('/roles', { preHandler: app.requireAuth({ scopes: 'admin', claim: 'https://example.com/roles' }) }, ok)
app.get('/dedup', { preHandler: app.requireAuth(['read:data', 'read:data', 'write:data']) }, ok)
app.get('/optional-scoped', { preHandler: app.requireAuth({ optional: true, scopes: 'read:messages' }) }, async (request) => ({ claims: request.claims ?? null }))
app.get('/optional', { preHandler: app.requireAuth({ optional: true }) }, async (request) => ({ claims: request.claims ?? null, auth: request.auth ?? null }))
t.teardown(async () => {
  await app.close()
  await issuer.close()
})

async function get (url: string, claims?: Record<string, unknown>): Promise<Awaited<ReturnType<typeof app.inject>>> {
  const headers = claims === undefined ? {} : { authorization: `Bearer ${await issuer.token(claims)}` }
  return await app.inject({ url, headers })
}

function forbidden (t: import('tap').Test, res: Awaited<ReturnType<typeof app.inject>>, scope: string): void {
  expectError(t, res, { status: 403, error: 'insufficient_scope', description: 'insufficient scope', challenge: bearerChallenge('insufficient_scope', 'insufficient scope', { scope }) })
}

t.test('a route without scopes accepts any valid token', async (t) => {
  t.equal((await get('/none', {})).statusCode, 200)
  t.equal((await get('/empty-list', { scope: '' })).statusCode, 200)
})

t.test('one scope, space-separated string claim', async (t) => {
  t.equal((await get('/messages', { scope: 'read:messages' })).statusCode, 200)
  t.equal((await get('/messages', { scope: 'openid profile read:messages write:messages' })).statusCode, 200)
  t.equal((await get('/messages', { scope: '  read:messages   write:messages  ' })).statusCode, 200, 'several spaces')
  await t.test('"read:message" does not grant "read:messages" (no prefix match)', async (t) => forbidden(t, await get('/messages', { scope: 'read:message' }), 'read:messages'))
  await t.test('"read:messages" is not granted by a longer scope', async (t) => forbidden(t, await get('/messages', { scope: 'read:messages:all read:messagesX' }), 'read:messages'))
  await t.test('case matters', async (t) => forbidden(t, await get('/messages', { scope: 'READ:MESSAGES' }), 'read:messages'))
  await t.test('no scope claim', async (t) => forbidden(t, await get('/messages', {}), 'read:messages'))
  await t.test('empty scope', async (t) => forbidden(t, await get('/messages', { scope: '' }), 'read:messages'))
  await t.test('scope of the wrong type', async (t) => forbidden(t, await get('/messages', { scope: 42 }), 'read:messages'))
  await t.test('scope as an object', async (t) => forbidden(t, await get('/messages', { scope: { 'read:messages': true } }), 'read:messages'))
  await t.test('the scope in permissions does not count for the scope claim', async (t) => forbidden(t, await get('/messages', { permissions: ['read:messages'] }), 'read:messages'))
})

t.test('array-valued scope claim', async (t) => {
  t.equal((await get('/messages', { scope: ['openid', 'read:messages'] })).statusCode, 200)
  t.equal((await get('/messages', { scope: [1, null, 'read:messages'] })).statusCode, 200, 'non-strings ignored')
  await t.test('nested arrays do not count', async (t) => forbidden(t, await get('/messages', { scope: [['read:messages']] }), 'read:messages'))
  await t.test('an array element is one whole scope', async (t) => forbidden(t, await get('/messages', { scope: ['read:messages write:messages'] }), 'read:messages'))
})

t.test('match all (default) and any', async (t) => {
  t.equal((await get('/all', { scope: 'write:data read:data' })).statusCode, 200)
  t.equal((await get('/all-explicit', { scope: 'write:data read:data' })).statusCode, 200)
  await t.test('all: one of two is not enough', async (t) => forbidden(t, await get('/all', { scope: 'read:data' }), 'read:data write:data'))
  await t.test('all, explicit', async (t) => forbidden(t, await get('/all-explicit', { scope: 'write:data' }), 'read:data write:data'))
  t.equal((await get('/any', { scope: 'owner' })).statusCode, 200)
  t.equal((await get('/any', { scope: 'admin owner' })).statusCode, 200)
  await t.test('any: none of them', async (t) => forbidden(t, await get('/any', { scope: 'user administrator' }), 'admin owner'))
  await t.test('duplicate required scopes are listed once', async (t) => forbidden(t, await get('/dedup', { scope: 'read:data' }), 'read:data write:data'))
})

t.test('permissions claim (Auth0 RBAC)', async (t) => {
  t.equal((await get('/permissions', { permissions: ['read:messages'] })).statusCode, 200)
  t.equal((await get('/permissions-any', { permissions: ['owner'] })).statusCode, 200)
  await t.test('the scope claim does not count for permissions', async (t) => forbidden(t, await get('/permissions', { scope: 'read:messages' }), 'read:messages'))
  await t.test('no permission', async (t) => forbidden(t, await get('/permissions', { permissions: [] }), 'read:messages'))
  await t.test('prefix of a permission', async (t) => forbidden(t, await get('/permissions', { permissions: ['read:message'] }), 'read:messages'))
  await t.test('any: none', async (t) => forbidden(t, await get('/permissions-any', { permissions: ['user'] }), 'admin owner'))
})

t.test('scp claim (string or array) and a custom namespaced claim', async (t) => {
  t.equal((await get('/scp', { scp: 'read:messages' })).statusCode, 200)
  t.equal((await get('/scp', { scp: ['read:messages'] })).statusCode, 200)
  await t.test('scp missing', async (t) => forbidden(t, await get('/scp', { scope: 'read:messages' }), 'read:messages'))
  t.equal((await get('/roles', { 'https://example.com/roles': ['admin'] })).statusCode, 200)
  await t.test('custom claim without the value', async (t) => forbidden(t, await get('/roles', { 'https://example.com/roles': ['administrator'] }), 'admin'))
})

t.test('an invalid token fails with 401 before scopes are looked at', async (t) => {
  const res = await get('/messages', { scope: 'read:messages', aud: 'https://other.example/' })
  expectError(t, res, { status: 401, error: 'invalid_token', description: 'unexpected aud claim value', challenge: bearerChallenge('invalid_token', 'unexpected aud claim value') })
})

t.test('optional routes', async (t) => {
  await t.test('no header: anonymous, claims stay undefined', async (t) => {
    const res = await get('/optional')
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), { claims: null, auth: null })
  })
  await t.test('empty header: anonymous', async (t) => {
    const res = await app.inject({ url: '/optional', headers: { authorization: '' } })
    t.strictSame(res.json(), { claims: null, auth: null })
  })
  await t.test('a good token: claims set', async (t) => {
    const res = await get('/optional', { sub: 'user-1' })
    t.equal(res.statusCode, 200)
    t.equal(res.json().claims.sub, 'user-1')
    t.equal(res.json().auth.scheme, 'bearer')
  })
  await t.test('a bad token still fails', async (t) => {
    expectError(t, await get('/optional', { exp: 1 }), { status: 401, error: 'invalid_token', description: 'token expired', challenge: bearerChallenge('invalid_token', 'token expired') })
    const forged = await issuer.token({}, { signingKey: (await issuer.foreignKey()).privateKey })
    expectError(t, await app.inject({ url: '/optional', headers: { authorization: `Bearer ${forged}` } }),
      { status: 401, error: 'invalid_token', description: 'signature verification failed', challenge: bearerChallenge('invalid_token', 'signature verification failed') })
    expectError(t, await app.inject({ url: '/optional', headers: { authorization: 'Bearer not-a-jwt' } }),
      { status: 401, error: 'invalid_token', description: 'not a JWT access token (opaque or encrypted); did the client request an audience?', challenge: bearerChallenge('invalid_token', 'not a JWT access token (opaque or encrypted); did the client request an audience?') })
  })
  await t.test('optional with scopes: anonymous passes, a token without the scope does not', async (t) => {
    t.strictSame((await get('/optional-scoped')).json(), { claims: null })
    t.equal((await get('/optional-scoped', { scope: 'read:messages' })).statusCode, 200)
    forbidden(t, await get('/optional-scoped', { scope: 'other' }), 'read:messages')
  })
})

t.test('requireAuth specs are validated when the route is declared', async (t) => {
  const prefix = 'fastify-auth0-api: requireAuth: '
  const bad: Array<[string, unknown, string]> = [
    ['unknown option key', { scope: 'read:messages' }, 'unknown option "scope" (known: scopes, match, claim, optional, dpop)'],
    ['unknown option key beside known ones', { scopes: 'a', claims: 'scope' }, 'unknown option "claims" (known: scopes, match, claim, optional, dpop)'],
    ['whitespace in a scope', 'read:messages write:messages', 'scope "read:messages write:messages" contains whitespace: pass each scope as its own array element'],
    ['whitespace in a list element', ['read', 'write data'], 'scope "write data" contains whitespace: pass each scope as its own array element'],
    ['tab in a scope', { scopes: 'a\tb' }, 'scope "a\tb" contains whitespace: pass each scope as its own array element'],
    // A required scope is sent in `scope=` (RFC 6750 §3): only RFC 6749 §3.3 scope-token characters.
    ['a double quote in a scope', 'say:"hi"', 'scope "say:\\"hi\\"" has a character a scope cannot hold (RFC 6749 §3.3: printable ASCII but " and \\)'],
    ['a backslash in a scope', ['ok', 'a\\b'], 'scope "a\\\\b" has a character a scope cannot hold (RFC 6749 §3.3: printable ASCII but " and \\)'],
    ['a non-ASCII scope', 'café', 'scope "café" has a character a scope cannot hold (RFC 6749 §3.3: printable ASCII but " and \\)'],
    ['a control character in a scope', 'a\u0000b', 'scope "a\\u0000b" has a character a scope cannot hold (RFC 6749 §3.3: printable ASCII but " and \\)'],
    ['empty scope', '', 'scopes must be non-empty strings'],
    ['non-string scope', ['a', 42], 'scopes must be non-empty strings'],
    ['scopes neither string nor array', { scopes: 42 }, 'scopes must be a string or an array of strings'],
    ['bad match', { scopes: 'a', match: 'some' }, 'match must be "all" or "any"'],
    ['bad claim (empty)', { scopes: 'a', claim: '' }, 'claim must be a non-empty claim name'],
    ['bad claim (not a string)', { scopes: 'a', claim: ['scope'] }, 'claim must be a non-empty claim name'],
    ['bad optional', { optional: 'yes' }, 'optional must be a boolean'],
    ['bad dpop', { dpop: 'allowed' }, 'dpop must be "required" when set'],
    ['bad dpop (boolean)', { dpop: true }, 'dpop must be "required" when set'],
    ['a number', 42, 'expected a scope, a list of scopes or an options object'],
    ['null', null, 'expected a scope, a list of scopes or an options object'],
    ['a function', () => 'a', 'expected a scope, a list of scopes or an options object']
  ]
  for (const [name, spec, message] of bad) {
    t.throws(() => app.requireAuth(spec as never), new TypeError(prefix + message), name)
  }
  t.doesNotThrow(() => app.requireAuth({ scopes: ['a'], match: 'any', claim: 'permissions', optional: false, dpop: 'required' }))
  t.doesNotThrow(() => app.requireAuth({}))
})
