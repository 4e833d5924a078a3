/**
 * SPEC §8 Auth0 Organizations: plugin-wide and per-route policies (true, id, name, list, sync and
 * async functions), ids exact against org_id, names case-insensitive against org_name, blank
 * values as missing, 401 invalid_token with reasons that tell missing from not allowed, a throwing
 * function as a 500, and the /orgs/:orgId recipe. Bearer and DPoP.
 */
import Fastify, { type FastifyRequest } from 'fastify'
import t from 'tap'
import auth0Plugin, { type AuthError } from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { dpopOnlyChallenge, expectError, expectInternal, expectInvalidToken } from '../helpers/expect.js'
import { AUDIENCE, describable, echo, policyApp } from './helpers.js'

const MISSING = 'token has no organization (org_id) and this API requires one'
const NOT_ALLOWED = 'token organization is not allowed here'
const NAME_MISSING = 'token has no org_name claim to match the allowed organization names (include organization names in tokens, or allow organization ids)'

t.test('descriptions stay within RFC 6750 §3 characters', async (t) => {
  for (const text of [MISSING, NOT_ALLOWED, NAME_MISSING]) t.ok(describable(text), text)
})

t.test('plugin-wide organization: true', async (t) => {
  const h = await policyApp(t, { organization: true }, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  t.equal((await h.bearer('/private', { org_id: 'org_abc' })).statusCode, 200)
  for (const claims of [{}, { org_id: '' }, { org_id: '   ' }, { org_id: 42 }, { org_id: null }, { org_name: 'acme' }]) {
    expectInvalidToken(t, await h.bearer('/private', claims), MISSING)
  }
  const res = await h.dpop('/private', {})
  expectError(t, res, { status: 401, error: 'invalid_token', description: MISSING, challenge: `Bearer realm="api", ${dpopOnlyChallenge('invalid_token', MISSING)}` })
  t.equal((await h.dpop('/private', { org_id: 'org_abc' })).statusCode, 200)
})

t.test('ids are exact against org_id, names case-insensitive against org_name', async (t) => {
  const h = await policyApp(t, { organization: ['org_Abc123', 'Acme', 'globex'] }, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  t.equal((await h.bearer('/private', { org_id: 'org_Abc123' })).statusCode, 200, 'id')
  t.equal((await h.bearer('/private', { org_id: 'org_other', org_name: 'acme' })).statusCode, 200, 'name, other case')
  t.equal((await h.bearer('/private', { org_id: 'org_other', org_name: 'GLOBEX' })).statusCode, 200)
  expectInvalidToken(t, await h.bearer('/private', { org_id: 'org_abc123', org_name: 'initech' }), NOT_ALLOWED)
  expectInvalidToken(t, await h.bearer('/private', { org_id: 'org_Abc123 ' }), NAME_MISSING)
  expectInvalidToken(t, await h.bearer('/private', { org_id: 'org_x' }), NAME_MISSING)
  expectInvalidToken(t, await h.bearer('/private', { org_id: 'org_x', org_name: '  ' }), NAME_MISSING)
  expectInvalidToken(t, await h.bearer('/private', { org_name: 'acme' }), MISSING)
  // An org_name naming an allowed id does not count: names are compared with names only.
  expectInvalidToken(t, await h.bearer('/private', { org_id: 'org_x', org_name: 'org_Abc123' }), NOT_ALLOWED)

  const ids = await policyApp(t, { organization: 'org_only' }, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  t.equal((await ids.bearer('/private', { org_id: 'org_only' })).statusCode, 200)
  expectInvalidToken(t, await ids.bearer('/private', { org_id: 'org_ONLY', org_name: 'org_only' }), NOT_ALLOWED)
  expectInvalidToken(t, await ids.bearer('/private', { org_id: 'org_other' }), NOT_ALLOWED)
})

t.test('reasons: organization_missing, organization_not_allowed, organization_name_missing', async (t) => {
  const h = await policyApp(t, { organization: ['org_a', 'acme'] }, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  const reason = async (claims: Record<string, unknown>): Promise<string> => {
    const token = await h.issuer.token(claims)
    return await h.app.auth0.verify({ method: 'GET', url: '/', headers: { authorization: `Bearer ${token}` } }).then(() => 'accepted', (err: AuthError) => err.reason)
  }
  t.equal(await reason({ org_id: 'org_a' }), 'accepted')
  t.equal(await reason({}), 'organization_missing')
  t.equal(await reason({ org_id: 'org_b', org_name: 'initech' }), 'organization_not_allowed')
  t.equal(await reason({ org_id: 'org_b' }), 'organization_name_missing')
})

t.test('per route, besides the plugin policy; false turns the plugin policy off for a route', async (t) => {
  const h = await policyApp(t, { organization: true }, (app) => {
    app.get('/any-org', { preHandler: app.requireAuth() }, echo)
    app.get('/acme', { preHandler: app.requireAuth({ organization: 'acme' }) }, echo)
    app.get('/personal', { preHandler: app.requireAuth({ organization: false }) }, echo)
  })
  t.equal((await h.bearer('/acme', { org_id: 'org_1', org_name: 'Acme' })).statusCode, 200)
  expectInvalidToken(t, await h.bearer('/acme', { org_id: 'org_1', org_name: 'globex' }), NOT_ALLOWED)
  expectInvalidToken(t, await h.bearer('/acme', { org_name: 'acme' }), MISSING)
  t.equal((await h.bearer('/personal', {})).statusCode, 200, 'no organization needed')
  expectInvalidToken(t, await h.bearer('/any-org', {}), MISSING)

  // Without a plugin policy, a route's own.
  const plain = await policyApp(t, {}, (app) => {
    app.get('/open', { preHandler: app.requireAuth() }, echo)
    app.get('/org', { preHandler: app.requireAuth({ organization: true }) }, echo)
    app.get('/off', { preHandler: app.requireAuth({ organization: false }) }, echo)
  })
  t.equal((await plain.bearer('/open', { org_id: 'org_whatever' })).statusCode, 200, 'no policy: org_id not looked at')
  t.equal((await plain.bearer('/off', {})).statusCode, 200)
  expectInvalidToken(t, await plain.bearer('/org', { org_id: ' ' }), MISSING)
})

t.test('functions: sync and async, the request passed, only true accepts, a throw is a 500', async (t) => {
  const calls: Array<{ id: string, name: string | undefined, url: string }> = []
  const h = await policyApp(t, {}, (app) => {
    app.get('/sync', { preHandler: app.requireAuth({ organization: (org, request) => { calls.push({ ...org, url: request.url }); return org.id === 'org_ok' } }) }, echo)
    app.get('/async', { preHandler: app.requireAuth({ organization: async (org) => await Promise.resolve(org.name === 'acme') }) }, echo)
    app.get('/truthy', { preHandler: app.requireAuth({ organization: (() => 'yes') as unknown as () => boolean }) }, echo)
    app.get('/throws', { preHandler: app.requireAuth({ organization: () => { throw new Error('database down') } }) }, echo)
    app.get('/rejects', { preHandler: app.requireAuth({ organization: async () => await Promise.reject(new Error('database down')) }) }, echo)
  })
  t.equal((await h.bearer('/sync?x=1', { org_id: 'org_ok', org_name: ' ' })).statusCode, 200)
  t.same(calls, [{ id: 'org_ok', name: undefined, url: '/sync?x=1' }], 'called with { id, name } and the Fastify request; a blank name is undefined')
  expectInvalidToken(t, await h.bearer('/sync', { org_id: 'org_no', org_name: 'acme' }), NOT_ALLOWED)
  expectInvalidToken(t, await h.bearer('/sync', {}), MISSING)
  t.equal(calls.length, 2, 'not called without an organization')
  t.equal((await h.bearer('/async', { org_id: 'org_1', org_name: 'acme' })).statusCode, 200)
  expectInvalidToken(t, await h.bearer('/async', { org_id: 'org_1', org_name: 'initech' }), NOT_ALLOWED)
  expectInvalidToken(t, await h.bearer('/truthy', { org_id: 'org_1' }), NOT_ALLOWED)
  expectInternal(t, await h.bearer('/throws', { org_id: 'org_1' }))
  expectInternal(t, await h.bearer('/rejects', { org_id: 'org_1' }))
  const dpop = await h.dpop('/async', { org_id: 'org_1', org_name: 'acme' })
  t.equal(dpop.statusCode, 200, 'async policy under DPoP')
})

t.test('a throwing organization function is logged with the request id, never accepted', async (t) => {
  const issuer = await createTestIssuer()
  const lines: Array<Record<string, unknown>> = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } })
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, organization: () => { throw new Error('lookup failed') } })
  app.get('/private', { preHandler: app.requireAuth() }, echo)
  const token = await issuer.token({ org_id: 'org_1' })
  const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
  expectInternal(t, res)
  const logged = lines.find((l) => l.reason === 'organization_check_failed')
  t.ok(logged, 'logged with its reason')
  t.equal(logged?.level, 50, 'at error level')
  t.match(logged?.err, { message: 'lookup failed' })
  t.ok(typeof logged?.reqId === 'string', 'with the request id')
  t.notOk(JSON.stringify(lines).includes(token), 'no token in any log line')
})

t.test('recipe: /orgs/:orgId/... routes only for tokens of that organization', async (t) => {
  const h = await policyApp(t, { organization: true }, (app) => {
    const sameOrg = (org: { id: string }, request: FastifyRequest): boolean => org.id === (request.params as { orgId: string }).orgId
    app.get('/orgs/:orgId/invoices', { preHandler: app.requireAuth({ organization: sameOrg, scopes: 'read:invoices' }) }, async (request) => ({ org: request.claims.org_id }))
  })
  t.same((await h.bearer('/orgs/org_1/invoices', { org_id: 'org_1', scope: 'read:invoices' })).json(), { org: 'org_1' })
  expectInvalidToken(t, await h.bearer('/orgs/org_2/invoices', { org_id: 'org_1', scope: 'read:invoices' }), NOT_ALLOWED)
  expectInvalidToken(t, await h.bearer('/orgs/org_1/invoices', { scope: 'read:invoices' }), MISSING)
  // The organization is judged before the scopes: a token of another organization is invalid here.
  expectInvalidToken(t, await h.bearer('/orgs/org_2/invoices', { org_id: 'org_1' }), NOT_ALLOWED)
})

t.test('fastify.auth0.verify(): the plugin policy and a route policy, with the request given to verify', async (t) => {
  const seen: unknown[] = []
  const h = await policyApp(t, { organization: (org, request) => { seen.push(request.url); return org.id.startsWith('org_') } }, () => {})
  const token = await h.issuer.token({ org_id: 'org_1', org_name: 'acme' })
  const request = { method: 'GET', url: '/ws', headers: { authorization: `Bearer ${token}` } }
  t.equal((await h.app.auth0.verify(request)).org_id, 'org_1')
  t.same(seen, ['/ws'])
  t.equal((await h.app.auth0.verify(request, { organization: (org, req) => org.name === 'acme' && req === request })).org_id, 'org_1')
  const err = await h.app.auth0.verify(request, { organization: 'globex' }).then(() => undefined, (e: AuthError) => e)
  t.equal(err?.reason, 'organization_not_allowed')
  t.equal(err?.statusCode, 401)
})

t.test('with domains (several issuers) and the token cache', async (t) => {
  const other = await createTestIssuer()
  t.teardown(async () => await other.close())
  const issuer = await createTestIssuer()
  t.teardown(async () => await issuer.close())
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(auth0Plugin, { domains: [issuer.issuerBaseURL, other.issuerBaseURL], audience: AUDIENCE, env: {}, organization: ['org_1', 'org_2'] })
  app.get('/org', { preHandler: app.requireAuth() }, echo)
  for (const [i, iss] of [issuer, other].entries()) {
    const good = await iss.token({ org_id: `org_${i + 1}` })
    for (let n = 0; n < 3; n++) t.equal((await app.inject({ url: '/org', headers: { authorization: `Bearer ${good}` } })).statusCode, 200)
    const bad = await iss.token({ org_id: 'org_9', org_name: 'x' })
    for (let n = 0; n < 3; n++) expectInvalidToken(t, await app.inject({ url: '/org', headers: { authorization: `Bearer ${bad}` } }), NOT_ALLOWED)
  }
})
