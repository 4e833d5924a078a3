/**
 * examples/scopes-and-permissions: each kind of requirement, allowed and refused.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildScopesAndPermissions } from '../../examples/scopes-and-permissions/index.js'
import { expectGrammar } from '../helpers/expect.js'

t.test('scopes, permissions, custom claims, optional auth and per-resource checks', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildScopesAndPermissions({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })
  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, claims?: Record<string, unknown>): Promise<{ status: number, body: unknown, challenge: string | undefined }> => {
    const res = await app.inject({ method, url, ...(claims !== undefined ? { headers: { authorization: `Bearer ${await issuer.token(claims)}` } } : {}) })
    expectGrammar(t, res)
    return { status: res.statusCode, body: res.json(), challenge: res.headers['www-authenticate'] as string | undefined }
  }

  t.equal((await call('GET', '/api/messages', { scope: 'read:messages' })).status, 200)
  t.equal((await call('GET', '/api/messages', { scope: ['read:messages'] })).status, 200, 'a scope array works too')
  const lacking = await call('GET', '/api/messages', { scope: 'read:message' })
  t.equal(lacking.status, 403, 'whole-value matching: read:message is not read:messages')
  t.match(lacking.challenge, /error="insufficient_scope", error_description="missing scope read:messages", scope="read:messages"/)

  t.equal((await call('POST', '/api/messages', { scope: 'read:messages write:messages' })).status, 200)
  const partial = await call('POST', '/api/messages', { scope: 'write:messages' })
  t.equal(partial.status, 403)
  t.match(partial.challenge, /scope="read:messages write:messages"/)

  t.equal((await call('GET', '/api/reports', { scope: 'admin' })).status, 200, 'any of')
  t.equal((await call('GET', '/api/reports', { scope: 'read:reports' })).status, 200)
  t.equal((await call('GET', '/api/reports', { scope: 'read:messages' })).status, 403)

  t.equal((await call('DELETE', '/api/messages/1', { permissions: ['delete:messages'] })).status, 200, 'RBAC permissions')
  t.equal((await call('DELETE', '/api/messages/1', { scope: 'delete:messages' })).status, 403, 'a scope is not a permission')

  t.equal((await call('GET', '/api/admin', { 'https://example.com/roles': ['admin'] })).status, 200)
  t.equal((await call('GET', '/api/admin', { 'https://example.com/roles': 'admin editor' })).status, 200, 'a space-separated string works too')
  t.equal((await call('GET', '/api/admin', { 'https://example.com/roles': ['editor'] })).status, 403)

  t.same((await call('GET', '/api/greeting')).body, { greeting: 'Hello, stranger' })
  t.same((await call('GET', '/api/greeting', { sub: 'auth0|bob' })).body, { greeting: 'Hello, auth0|bob' })
  const bad = await app.inject({ url: '/api/greeting', headers: { authorization: 'Bearer not-a-jwt' } })
  t.equal(bad.statusCode, 401, 'optional, but bad credentials are still refused')

  t.same(await call('GET', '/api/documents/1', { sub: 'auth0|alice', scope: 'read:documents' }), { status: 200, body: { owner: 'auth0|alice', text: 'Alice\'s notes' }, challenge: undefined })
  t.same((await call('GET', '/api/documents/1', { sub: 'auth0|bob', scope: 'read:documents' })).body, { error: 'not_your_document' })
  t.equal((await call('GET', '/api/documents/2', { sub: 'auth0|bob', scope: 'read:documents' })).status, 404)
})
