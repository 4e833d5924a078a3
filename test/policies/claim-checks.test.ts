/**
 * SPEC §8 claim checks: per-route `check(claims, request)`, sync or async; claimEquals and
 * claimIncludes; a refusal is 403 insufficient_scope (no scope=) saying what was required; a check
 * that throws or rejects is a 500, logged, never an accept.
 */
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import auth0Plugin, { claimEquals, claimIncludes, type AccessTokenClaims, type AuthError } from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { dpopOnlyChallenge, expectError, expectInternal, expectErrorGrammar } from '../helpers/expect.js'
import { AUDIENCE, describable, echo, policyApp } from './helpers.js'

const claims = (c: Record<string, unknown>): AccessTokenClaims => ({ iss: 'i', sub: 's', aud: 'a', exp: 1, iat: 1, ...c })

function refused (t: Test, res: Awaited<ReturnType<import('fastify').FastifyInstance['inject']>>, description: string): void {
  t.ok(describable(description), 'description within RFC 6750 §3 characters')
  expectError(t, res, { status: 403, error: 'insufficient_scope', description, challenge: `Bearer realm="api", error="insufficient_scope", error_description="${description}", DPoP algs="ES256"` })
}

t.test('claimEquals: strict equality with a JSON primitive', async (t) => {
  const tier = claimEquals('https://example.com/tier', 'gold')
  t.equal(tier(claims({ 'https://example.com/tier': 'gold' }), undefined), true)
  t.equal(tier(claims({ 'https://example.com/tier': 'Gold' }), undefined), false)
  t.equal(tier(claims({ 'https://example.com/tier': ['gold'] }), undefined), false)
  t.equal(tier(claims({}), undefined), false)
  t.equal(claimEquals('verified', true)(claims({ verified: true }), undefined), true)
  t.equal(claimEquals('verified', true)(claims({ verified: 'true' }), undefined), false)
  t.equal(claimEquals('n', 1)(claims({ n: 1 }), undefined), true)
  t.equal(claimEquals('x', null)(claims({ x: null }), undefined), true)
  t.equal(claimEquals('x', null)(claims({}), undefined), false)
  t.throws(() => claimEquals('', 'x'), /claimEquals: the claim name must be a non-empty string/)
  t.throws(() => claimEquals('x', { a: 1 } as unknown as string), /claimEquals: expected values must be strings, numbers, booleans or null/)
})

t.test('claimIncludes: an array or a space-separated string holding every value (whole values)', async (t) => {
  const roles = claimIncludes('roles', 'admin', 'editor')
  t.equal(roles(claims({ roles: ['editor', 'admin', 'x'] }), undefined), true)
  t.equal(roles(claims({ roles: 'admin editor' }), undefined), true)
  t.equal(roles(claims({ roles: ['admin'] }), undefined), false)
  t.equal(roles(claims({ roles: 'administrator editor' }), undefined), false)
  t.equal(roles(claims({ roles: 'admin' }), undefined), false)
  t.equal(roles(claims({}), undefined), false)
  t.equal(roles(claims({ roles: { admin: true, editor: true } }), undefined), false)
  t.equal(claimIncludes('level', 3)(claims({ level: 3 }), undefined), true, 'one value: the claim itself')
  t.equal(claimIncludes('level', 3)(claims({ level: [1, 3] }), undefined), true)
  t.equal(claimIncludes('level', 3)(claims({ level: '3' }), undefined), false, 'a string holds strings only')
  t.equal(claimIncludes('level', 3, 4)(claims({ level: 3 }), undefined), false)
  t.equal(claimIncludes('level', 3)(claims({ level: 4 }), undefined), false, 'one value: another number')
  t.throws(() => claimIncludes('roles'), /claimIncludes: name at least one expected value/)
  t.throws(() => claimIncludes(42 as unknown as string, 'a'), /claimIncludes: the claim name/)
  t.throws(() => claimIncludes('roles', ['a'] as unknown as string), /claimIncludes: expected values/)
})

t.test('routes: the builders say what they require; a custom check says it refused', async (t) => {
  const seen: string[] = []
  const h = await policyApp(t, {}, (app) => {
    app.get('/gold', { preHandler: app.requireAuth({ check: claimEquals('https://example.com/tier', 'gold') }) }, echo)
    app.get('/editors', { preHandler: app.requireAuth({ check: claimIncludes('https://example.com/roles', 'admin', 'editor') }) }, echo)
    app.get('/quoted', { preHandler: app.requireAuth({ check: claimEquals('name', 'say "hi"') }) }, echo)
    app.get('/custom', { preHandler: app.requireAuth({ check: (c, request) => { seen.push(request.url); return c.sub.startsWith('auth0|') } }) }, echo)
    app.get('/async', { preHandler: app.requireAuth({ check: async (c) => await Promise.resolve(c.email_verified === true) }) }, echo)
    app.get('/truthy', { preHandler: app.requireAuth({ check: (() => 1) as unknown as () => boolean }) }, echo)
    app.get('/scoped', { preHandler: app.requireAuth({ scopes: 'read:x', check: () => false }) }, echo)
  })
  t.equal((await h.bearer('/gold', { 'https://example.com/tier': 'gold' })).statusCode, 200)
  refused(t, await h.bearer('/gold', { 'https://example.com/tier': 'silver' }), 'claim https://example.com/tier must be gold')
  t.equal((await h.bearer('/editors', { 'https://example.com/roles': ['editor', 'admin'] })).statusCode, 200)
  refused(t, await h.bearer('/editors', { 'https://example.com/roles': ['editor'] }), 'claim https://example.com/roles must include admin, editor')
  refused(t, await h.bearer('/quoted', { name: 'x' }), 'token refused by the route claim check')
  t.equal((await h.bearer('/custom?q=1', { sub: 'auth0|1' })).statusCode, 200)
  t.same(seen, ['/custom?q=1'], 'the check receives the Fastify request')
  refused(t, await h.bearer('/custom', { sub: 'google|1' }), 'token refused by the route claim check')
  t.equal((await h.bearer('/async', { email_verified: true })).statusCode, 200)
  refused(t, await h.bearer('/async', { email_verified: 'true' }), 'token refused by the route claim check')
  refused(t, await h.bearer('/truthy'), 'token refused by the route claim check')
  // Scopes come first; the check runs only when they are there.
  expectError(t, await h.bearer('/scoped'), { status: 403, error: 'insufficient_scope', description: 'missing scope read:x', challenge: 'Bearer realm="api", error="insufficient_scope", error_description="missing scope read:x", scope="read:x", DPoP algs="ES256"' })
  refused(t, await h.bearer('/scoped', { scope: 'read:x' }), 'token refused by the route claim check')
  // Under DPoP, on the DPoP challenge.
  const res = await h.dpop('/gold', {})
  expectError(t, res, { status: 403, error: 'insufficient_scope', description: 'claim https://example.com/tier must be gold', challenge: `Bearer realm="api", ${dpopOnlyChallenge('insufficient_scope', 'claim https://example.com/tier must be gold')}` })
  t.equal((await h.dpop('/async', { email_verified: true })).statusCode, 200)
})

t.test('a check that throws or rejects: 500, logged with its reason, never an accept', async (t) => {
  const issuer = await createTestIssuer()
  const lines: Array<Record<string, unknown>> = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } })
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {} })
  app.get('/throws', { preHandler: app.requireAuth({ check: () => { throw new Error('check bug') } }) }, echo)
  app.get('/rejects', { preHandler: app.requireAuth({ check: async () => { throw new Error('check bug') } }) }, echo)
  for (const url of ['/throws', '/rejects']) {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${await issuer.token()}` } })
    expectInternal(t, res)
  }
  const logged = lines.filter((l) => l.reason === 'check_error')
  t.equal(logged.length, 2)
  t.ok(logged.every((l) => l.level === 50 && (l.err as { message: string }).message === 'check bug' && typeof l.reqId === 'string'))
})

t.test('fastify.auth0.verify(): a check receives the request given to verify; reasons are stable', async (t) => {
  const h = await policyApp(t, {}, () => {})
  const request = { method: 'GET', url: '/ws', headers: { authorization: `Bearer ${await h.issuer.token({ plan: 'pro' })}` } }
  t.equal((await h.app.auth0.verify(request, { check: (c, req) => c.plan === 'pro' && req.url === '/ws' })).plan, 'pro')
  const err = await h.app.auth0.verify(request, { check: claimEquals('plan', 'enterprise') }).then(() => undefined, (e: AuthError) => e)
  t.equal(err?.reason, 'check_failed')
  t.equal(err?.statusCode, 403)
  t.equal(err?.headers['www-authenticate'], 'Bearer realm="api", error="insufficient_scope", error_description="claim plan must be enterprise", DPoP algs="ES256"')
  expectErrorGrammar(t, err)
  const thrown = await h.app.auth0.verify(request, { check: () => { throw new Error('x') } }).then(() => undefined, (e: AuthError) => e)
  t.equal(thrown?.reason, 'check_error')
  t.equal(thrown?.statusCode, 500)
})
