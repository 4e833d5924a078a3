/**
 * examples/behind-a-proxy: requests as the proxy forwards them; the URLs shown to clients are
 * the public ones.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildBehindAProxy } from '../../examples/behind-a-proxy/index.js'
import { expectGrammar } from '../helpers/expect.js'

t.test('forwarded requests, public URLs in challenges and metadata', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildBehindAProxy({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com', 'x-forwarded-for': '203.0.113.7' }
  const metadataUrl = 'https://example.com/.well-known/oauth-protected-resource/api'

  const ok = await app.inject({ url: '/messages', headers: { ...forwarded, authorization: `Bearer ${await issuer.token({ scope: 'read:messages' })}` } })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { user: 'test-user', seenAs: 'https://example.com/messages' })

  const missing = await app.inject({ url: '/messages', headers: forwarded })
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], `Bearer realm="api", resource_metadata="${metadataUrl}", DPoP algs="ES256", resource_metadata="${metadataUrl}"`)
  expectGrammar(t, missing)

  const metadata = await app.inject({ url: '/.well-known/oauth-protected-resource/api', headers: forwarded })
  t.same(metadata.json(), {
    resource: 'https://example.com/api',
    authorization_servers: [issuer.issuer],
    bearer_methods_supported: ['header'],
    scopes_supported: ['read:messages'],
    dpop_signing_alg_values_supported: ['ES256'],
    resource_name: 'Example API'
  })
})
