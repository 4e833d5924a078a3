/**
 * examples/multiple-domains: two real issuers; each host accepts its own tenant's tokens only,
 * and a token naming a foreign issuer causes no fetch.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildMultipleDomains } from '../../examples/multiple-domains/index.js'

t.test('per-host issuers', async (t) => {
  const a = await createTestIssuer()
  const b = await createTestIssuer()
  const app = await buildMultipleDomains({ 'a.example.com': [a.issuerBaseURL], 'b.example.com': [b.issuerBaseURL] }, { audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await a.close(); await b.close() })
  const call = async (host: string, token: string): Promise<{ status: number, body: unknown }> => {
    const res = await app.inject({ url: '/api/whoami', headers: { host, authorization: `Bearer ${token}` } })
    return { status: res.statusCode, body: res.json() }
  }
  const tokenA = await a.token({ sub: 'auth0|a-user' })
  const tokenB = await b.token({ sub: 'auth0|b-user' })

  t.same(await call('a.example.com', tokenA), { status: 200, body: { user: 'auth0|a-user', issuer: a.issuer } })
  t.same(await call('B.example.com', tokenB), { status: 200, body: { user: 'auth0|b-user', issuer: b.issuer } })

  const before = { ...b.requests }
  t.same(await call('a.example.com', tokenB), { status: 401, body: { detail: { error: 'invalid_token', error_description: 'issuer not allowed' } } })
  t.same(await call('unknown.example.com', tokenA), { status: 401, body: { detail: { error: 'invalid_token', error_description: 'issuer not allowed' } } })
  t.same(b.requests, before, 'no fetch for an issuer the host does not accept')
})
