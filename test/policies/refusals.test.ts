/**
 * Item 5 of issue 10: a 403 says what the token lacks and how the route matches, within RFC 6750
 * §3 characters, and the challenge's scope= is right for the route: the required set for all-of
 * OAuth scopes (scope, scp, permissions), none for any-of (no single set is required) or for
 * values of another claim (they are not OAuth scopes).
 */
import t from 'tap'
import { Challenges } from '../../lib/http/challenge.js'
import { InsufficientScopeError, InsufficientUserAuthenticationError } from '../../lib/index.js'
import { expectError, expectGrammar } from '../helpers/expect.js'
import { describable, echo, policyApp } from './helpers.js'

t.test('descriptions and scope= per route', async (t) => {
  const h = await policyApp(t, {}, (app) => {
    app.post('/data', { preHandler: app.requireAuth({ scopes: ['read:data', 'write:data'], claim: 'permissions' }) }, echo)
    app.get('/admin', { preHandler: app.requireAuth({ scopes: ['admin', 'owner'], match: 'any' }) }, echo)
    app.get('/one-of-one', { preHandler: app.requireAuth({ scopes: ['admin'], match: 'any' }) }, echo)
    app.get('/roles', { preHandler: app.requireAuth({ scopes: ['editor', 'admin'], claim: 'https://example.com/roles' }) }, echo)
    app.get('/roles-any', { preHandler: app.requireAuth({ scopes: ['editor', 'admin'], match: 'any', claim: 'roles' }) }, echo)
    app.get('/accented', { preHandler: app.requireAuth({ scopes: 'admin', claim: 'rôles' }) }, echo)
  })
  const cases: Array<[string, Record<string, unknown>, string, string | undefined]> = [
    ['/data', { permissions: ['read:data'] }, 'missing permission write:data', 'read:data write:data'],
    ['/data', { scope: 'read:data write:data' }, 'missing permissions read:data, write:data', 'read:data write:data'],
    ['/admin', { scope: 'user' }, 'needs one of the scopes admin, owner', undefined],
    ['/one-of-one', {}, 'missing scope admin', 'admin'],
    ['/roles', { 'https://example.com/roles': ['editor'] }, 'missing https://example.com/roles value admin', undefined],
    ['/roles-any', { roles: [] }, 'needs one of the roles values editor, admin', undefined],
    ['/accented', {}, 'missing claim value admin', undefined],
  ]
  for (const [url, claims, description, scope] of cases) {
    t.ok(describable(description), description)
    const token = await h.issuer.token(claims)
    const res = await h.app.inject({ method: url === '/data' ? 'POST' : 'GET', url, headers: { authorization: `Bearer ${token}` } })
    const scopeParam = scope === undefined ? '' : `, scope="${scope}"`
    expectError(t, res, { status: 403, error: 'insufficient_scope', description, challenge: `Bearer realm="api", error="insufficient_scope", error_description="${description}"${scopeParam}, DPoP algs="ES256"` })
  }
})

// RFC 6750 §3: scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR. A refusal that
// requires no scope set (a check, an any-of list, another claim's values, a step-up with any-of
// scopes) must send no scope= at all, never scope="".
t.test('a refusal without a required scope set sends no scope= (never scope="")', async (t) => {
  const h = await policyApp(t, {}, (app) => {
    app.get('/check', { preHandler: app.requireAuth({ check: () => false }) }, echo)
    app.get('/dpop-check', { preHandler: app.requireAuth({ dpop: 'required', check: async () => false }) }, echo)
    app.get('/any-then-check', { preHandler: app.requireAuth({ scopes: ['a', 'b'], match: 'any', check: () => false }) }, echo)
    app.get('/any', { preHandler: app.requireAuth({ scopes: ['a', 'b'], match: 'any' }) }, echo)
    app.get('/roles', { preHandler: app.requireAuth({ scopes: ['editor'], claim: 'roles' }) }, echo)
    app.get('/step-up-any', { preHandler: app.requireAuth({ acr: 'gold', scopes: ['a', 'b'], match: 'any' }) }, echo)
    app.get('/step-up-roles', { preHandler: app.requireAuth({ maxAge: 60, scopes: ['editor'], claim: 'roles' }) }, echo)
  })
  const requests: Array<[string, () => Promise<{ statusCode: number, headers: Record<string, unknown>, body: string }>, number, string]> = [
    ['check refuses (Bearer)', async () => await h.bearer('/check'), 403, 'check_failed'],
    ['check refuses (DPoP-only route)', async () => await h.dpop('/dpop-check'), 403, 'check_failed'],
    ['any-of scopes held, check refuses', async () => await h.bearer('/any-then-check', { scope: 'a' }), 403, 'check_failed'],
    ['any-of scopes missing', async () => await h.bearer('/any'), 403, 'insufficient_scope'],
    ['another claim\'s values missing', async () => await h.bearer('/roles'), 403, 'insufficient_scope'],
    ['step-up, any-of scopes missing too', async () => await h.bearer('/step-up-any'), 401, 'acr_missing'],
    ['step-up, another claim\'s values missing too', async () => await h.bearer('/step-up-roles'), 401, 'auth_time_missing']
  ]
  for (const [name, send, status, reason] of requests) {
    const res = await send()
    t.equal(res.statusCode, status, `${name}: status (${reason})`)
    const header = String(res.headers['www-authenticate'])
    t.notMatch(header, /scope=/i, `${name}: no scope= in ${header}`)
    t.ok(expectGrammar(t, res)?.withError, `${name}: the challenge carries the error`)
  }
})

t.test('the challenge builder: no scope= for an empty requiredScopes, whatever built the error', async (t) => {
  const challenges = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256'] })
  for (const mode of ['allowed', 'required', 'disabled'] as const) {
    for (const scheme of ['bearer', 'dpop'] as const) {
      const scopeError = challenges.apply(new InsufficientScopeError([], 'refused', scheme, 'check_failed'), mode)
      t.notMatch(scopeError.headers['www-authenticate'], /scope=/, `InsufficientScopeError([]) ${scheme} ${mode}`)
      expectGrammar(t, scopeError)
      const stepUp = new InsufficientUserAuthenticationError('acr_missing', 'log in again', scheme, 'gold', undefined)
      t.notMatch(challenges.apply(stepUp, mode).headers['www-authenticate'], /scope=/, `InsufficientUserAuthenticationError, no scopes, ${scheme} ${mode}`)
      for (const err of [scopeError, stepUp]) expectGrammar(t, { statusCode: err.statusCode, headers: err.headers, body: JSON.stringify(err) })
    }
  }
})
