/**
 * examples/hs256: an HS256 API configured by its secret; RS256 tokens and other secrets refused,
 * nothing fetched.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildHs256 } from '../../examples/hs256/index.js'

t.test('HS256 tokens verified with the API secret', async (t) => {
  const issuer = await createTestIssuer({ alg: 'HS256' })
  const rs = await createTestIssuer()
  const app = await buildHs256({ env: { AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL, AUTH0_AUDIENCE: 'https://api.example.com/', AUTH0_SIGNING_SECRET: issuer.secret } })
  t.teardown(async () => { await app.close(); await issuer.close(); await rs.close() })
  const call = async (url: string, token: string): Promise<{ status: number, body: unknown }> => {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${token}` } })
    return { status: res.statusCode, body: res.json() }
  }
  t.same(await call('/api/private', await issuer.token({ sub: 'auth0|hs' })), { status: 200, body: { user: 'auth0|hs' } })
  t.same(await call('/api/messages', await issuer.token({ scope: 'read:messages' })), { status: 200, body: { messages: ['hello'] } })
  t.same(await call('/api/messages', await issuer.token()), { status: 403, body: { detail: { error: 'insufficient_scope', error_description: 'missing scope read:messages' } } })
  const rsToken = await rs.token({ iss: issuer.issuer })
  t.same(await call('/api/private', rsToken), { status: 401, body: { detail: { error: 'invalid_token', error_description: 'token algorithm not allowed' } } })
  t.strictSame(issuer.requests, { discovery: 0, jwks: 0 })
  t.strictSame(rs.requests, { discovery: 0, jwks: 0 })
})
