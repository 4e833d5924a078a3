/**
 * Item 5 of issue 10: a 403 says what the token lacks and how the route matches, within RFC 6750
 * §3 characters, and the challenge's scope= is right for the route: the required set for all-of
 * OAuth scopes (scope, scp, permissions), none for any-of (no single set is required) or for
 * values of another claim (they are not OAuth scopes).
 */
import t from 'tap'
import { expectError } from '../helpers/expect.js'
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
