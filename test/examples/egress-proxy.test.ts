/**
 * examples/egress-proxy: the issuer is reached through the forward proxy only.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildEgressProxyApi } from '../../examples/egress-proxy/index.js'
import { startForwardProxy } from '../helpers/forward-proxy.js'

t.test('discovery and JWKS through the proxy', async (t) => {
  const issuer = await createTestIssuer()
  const proxy = await startForwardProxy()
  const app = await buildEgressProxyApi(proxy.url, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await proxy.close(); await issuer.close() })
  const res = await app.inject({ url: '/api/private', headers: { authorization: `Bearer ${await issuer.token()}` } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { user: 'test-user' })
  t.same(proxy.requests, [`GET ${issuer.issuerBaseURL}.well-known/openid-configuration`, `GET ${issuer.jwksUri}`])
  t.same(issuer.requests, { discovery: 1, jwks: 1 })
})
