/**
 * RFC 9728 protected-resource metadata: the document, its well-known path, `resource_metadata=` in
 * every 401 challenge, the start-up checks, and the discovery an MCP-style client performs, with
 * oauth4webapi as an independent RFC 9728 client over real HTTP.
 */
import { createServer } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import * as oauth from 'oauth4webapi'
import t, { type Test } from 'tap'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, type TestIssuer } from '../../lib/testing/index.js'
import { expectGrammar } from '../helpers/expect.js'

const AUDIENCE = 'https://api.example.com/'
const WELL_KNOWN = '/.well-known/oauth-protected-resource'

async function setup (t: Test, options: Partial<Auth0PluginOptions>): Promise<{ app: FastifyInstance, issuer: TestIssuer }> {
  const issuer = await createTestIssuer()
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, ...options })
  app.get('/public', async () => ({ ok: true }))
  app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({ ok: true }))
  app.post('/messages', { preHandler: app.requireAuth(['read:messages', 'write:messages']) }, async () => ({ ok: true }))
  app.get('/scp', { preHandler: app.requireAuth({ scopes: 'files.read', claim: 'scp' }) }, async () => ({ ok: true }))
  app.get('/admin', { onRequest: app.requireAuth({ scopes: ['admin'], claim: 'permissions' }) }, async () => ({ ok: true }))
  app.register(async (child) => {
    child.get('/roles', { preHandler: [async () => {}, child.requireAuth({ scopes: 'editor', claim: 'https://example.com/roles' })] }, async () => ({ ok: true }))
  }, { prefix: '/nested' })
  await app.ready()
  return { app, issuer }
}

t.test('the document: issuers, bearer header, scopes from the routes, DPoP algorithms', async (t) => {
  const { app, issuer } = await setup(t, { publicBaseURL: 'https://api.example.com', resourceMetadata: true })
  const res = await app.inject({ url: WELL_KNOWN })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(res.headers['cache-control'], 'public, max-age=3600')
  t.same(res.json(), {
    resource: 'https://api.example.com',
    authorization_servers: [issuer.issuer],
    bearer_methods_supported: ['header'],
    // OAuth scope claims (scope, scp) and Auth0 permissions; a custom role claim is not a scope.
    scopes_supported: ['admin', 'files.read', 'read:messages', 'write:messages'],
    dpop_signing_alg_values_supported: ['ES256']
  })
  t.equal((await app.inject({ url: WELL_KNOWN })).body, res.body, 'the same document every time')
  t.equal((await app.inject({ method: 'HEAD', url: WELL_KNOWN })).statusCode, 200)
})

t.test('every 401 challenge names the metadata URL; 403 and 400 do not', async (t) => {
  const { app, issuer } = await setup(t, { publicBaseURL: 'https://api.example.com', resourceMetadata: true })
  const url = 'https://api.example.com/.well-known/oauth-protected-resource'
  const missing = await app.inject({ url: '/messages' })
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], `Bearer realm="api", resource_metadata="${url}", DPoP algs="ES256", resource_metadata="${url}"`)
  expectGrammar(t, missing)
  const expired = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token({ scope: 'read:messages' }, { expiresIn: -60 })}` } })
  t.equal(expired.statusCode, 401)
  t.equal(expired.headers['www-authenticate'], `Bearer realm="api", error="invalid_token", error_description="token expired", resource_metadata="${url}", DPoP algs="ES256", resource_metadata="${url}"`)
  expectGrammar(t, expired)
  const forbidden = await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token()}` } })
  t.equal(forbidden.statusCode, 403)
  t.notMatch(forbidden.headers['www-authenticate'], 'resource_metadata')
  expectGrammar(t, forbidden)
  const malformed = await app.inject({ url: '/messages', headers: { authorization: 'Bearer a b' } })
  t.equal(malformed.statusCode, 400)
  t.notMatch(malformed.headers['www-authenticate'], 'resource_metadata')
  expectGrammar(t, malformed)
  // Another scheme is answered like no credentials (RFC 6750 §3): a 401 that names the metadata.
  const foreign = await app.inject({ url: '/messages', headers: { authorization: 'Basic eDp5' } })
  t.equal(foreign.statusCode, 401)
  t.match(foreign.headers['www-authenticate'], 'resource_metadata=')
  expectGrammar(t, foreign)
})

t.test('a resource with a path: the well-known path is inserted before it (RFC 9728 §3.1)', async (t) => {
  const { app } = await setup(t, {
    resourceMetadata: {
      resource: 'https://api.example.com/v1/',
      scopesSupported: ['read:messages', 'profile'],
      authorizationServers: ['https://login.example.com/'],
      resourceName: 'Example API',
      resourceDocumentation: 'https://docs.example.com/api',
      resourcePolicyUri: 'https://example.com/privacy?lang=en',
      resourceTosUri: 'https://example.com/tos'
    },
    dpop: { mode: 'disabled' }
  })
  t.equal((await app.inject({ url: WELL_KNOWN })).statusCode, 404)
  const res = await app.inject({ url: `${WELL_KNOWN}/v1/` })
  t.same(res.json(), {
    resource: 'https://api.example.com/v1/',
    authorization_servers: ['https://login.example.com/'],
    bearer_methods_supported: ['header'],
    scopes_supported: ['admin', 'files.read', 'profile', 'read:messages', 'write:messages'],
    resource_name: 'Example API',
    resource_documentation: 'https://docs.example.com/api',
    resource_policy_uri: 'https://example.com/privacy?lang=en',
    resource_tos_uri: 'https://example.com/tos'
  }, 'no DPoP members when DPoP is disabled; configured scopes merged')
  const missing = await app.inject({ url: '/messages' })
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/v1/"')
  expectGrammar(t, missing)
})

t.test('DPoP required: dpop_bound_access_tokens_required', async (t) => {
  const { app } = await setup(t, { resourceMetadata: { resource: 'http://127.0.0.1:8080' }, dpop: { mode: 'required', algorithms: ['ES256', 'EdDSA'] } })
  t.match((await app.inject({ url: WELL_KNOWN })).json(), {
    resource: 'http://127.0.0.1:8080',
    dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
    dpop_bound_access_tokens_required: true
  })
})

t.test('several issuers, the public base URL from the environment, and a resolver', async (t) => {
  const domains = await setup(t, { issuerBaseURL: undefined, domains: ['tenant.example.com', { issuer: 'https://login.example.com/' }], env: { AUTH0_PUBLIC_BASE_URL: 'https://api.example.com/' }, resourceMetadata: {} })
  t.match((await domains.app.inject({ url: WELL_KNOWN })).json(), {
    resource: 'https://api.example.com',
    authorization_servers: ['https://tenant.example.com/', 'https://login.example.com/']
  })
  const resolver = await setup(t, { issuerBaseURL: undefined, domains: () => ['tenant.example.com'], resourceMetadata: { resource: 'https://api.example.com/', authorizationServers: ['https://tenant.example.com/'] } })
  t.match((await resolver.app.inject({ url: WELL_KNOWN })).json(), { authorization_servers: ['https://tenant.example.com/'] })
})

t.test('off by default', async (t) => {
  const { app } = await setup(t, { publicBaseURL: 'https://api.example.com' })
  t.equal((await app.inject({ url: WELL_KNOWN })).statusCode, 404)
  const withoutMetadata = await app.inject({ url: '/messages' })
  t.notMatch(withoutMetadata.headers['www-authenticate'], 'resource_metadata')
  expectGrammar(t, withoutMetadata)
  const off = await setup(t, { publicBaseURL: 'https://api.example.com', resourceMetadata: false })
  t.equal((await off.app.inject({ url: WELL_KNOWN })).statusCode, 404)
})

t.test('start-up refuses what cannot give an absolute URL or a valid document', async (t) => {
  const refused: Array<[string, Partial<Auth0PluginOptions>, RegExp]> = [
    ['no resource, no publicBaseURL', { resourceMetadata: true }, /resourceMetadata needs the resource URL .* set resourceMetadata.resource or publicBaseURL \(AUTH0_PUBLIC_BASE_URL\)/],
    ['not an object', { resourceMetadata: 'yes' as never }, /resourceMetadata must be true, false or an options object \(got string\)/],
    ['unknown option', { resourceMetadata: { resource: 'https://api.example.com/', scopes: [] } as never }, /resourceMetadata: unknown option "scopes"/],
    ['http resource', { resourceMetadata: { resource: 'http://api.example.com/' } }, /resourceMetadata.resource must be an absolute https URL \(http only on loopback\) without credentials, query or fragment/],
    ['relative resource', { resourceMetadata: { resource: '/api' } }, /resourceMetadata.resource must be an absolute https URL/],
    ['fragment', { resourceMetadata: { resource: 'https://api.example.com/#x' } }, /resourceMetadata.resource must be an absolute https URL/],
    ['query', { resourceMetadata: { resource: 'https://api.example.com/?v=1' } }, /resourceMetadata.resource must be an absolute https URL/],
    ['credentials', { resourceMetadata: { resource: 'https://user:pw@api.example.com/' } }, /resourceMetadata.resource must be an absolute https URL/],
    ['http publicBaseURL', { publicBaseURL: 'http://api.example.com', resourceMetadata: true }, /publicBaseURL must be an absolute https URL/],
    ['resolver without servers', { issuerBaseURL: undefined, domains: () => [], resourceMetadata: { resource: 'https://api.example.com/' } }, /resourceMetadata.authorizationServers is required when issuers come from a domains resolver/],
    ['empty servers', { resourceMetadata: { resource: 'https://api.example.com/', authorizationServers: [] } }, /resourceMetadata.authorizationServers is required/],
    ['bad server', { resourceMetadata: { resource: 'https://api.example.com/', authorizationServers: ['tenant.example.com'] } }, /resourceMetadata.authorizationServers\[0\] must be an absolute https URL/],
    ['bad scopes', { resourceMetadata: { resource: 'https://api.example.com/', scopesSupported: ['read write'] } }, /resourceMetadata.scopesSupported must be an array of scopes without whitespace/],
    ['scopes not a list', { resourceMetadata: { resource: 'https://api.example.com/', scopesSupported: 'read' as never } }, /resourceMetadata.scopesSupported must be an array/],
    ['empty name', { resourceMetadata: { resource: 'https://api.example.com/', resourceName: '' } }, /resourceMetadata.resourceName must be a non-empty string/],
    ['bad documentation URL', { resourceMetadata: { resource: 'https://api.example.com/', resourceDocumentation: 'docs' } }, /resourceMetadata.resourceDocumentation must be an absolute https URL \(http only on loopback\) without credentials or fragment/]
  ]
  for (const [name, options, message] of refused) {
    const app = Fastify()
    await t.rejects(async () => {
      await app.register(auth0Plugin, { issuerBaseURL: 'https://tenant.example.com/', audience: AUDIENCE, env: {}, ...options })
    }, { message }, name)
    await app.close()
  }
})

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

t.test('an MCP-style client finds the authorization server from a 401 alone (oauth4webapi, real HTTP)', async (t) => {
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  const issuer = await createTestIssuer()
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, resourceMetadata: { resource } })
  app.post('/mcp', { preHandler: app.requireAuth('tools:call') }, async () => ({ jsonrpc: '2.0', result: {} }))
  await app.listen({ port, host: '127.0.0.1' })

  const first = await fetch(resource, { method: 'POST' })
  t.equal(first.status, 401)
  expectGrammar(t, { statusCode: first.status, headers: { 'www-authenticate': first.headers.get('www-authenticate') ?? undefined }, body: await first.clone().text() })
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(first.headers.get('www-authenticate') ?? '')?.[1]
  t.equal(metadataUrl, `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`)

  const options = { [oauth.allowInsecureRequests]: true }
  const response = await oauth.resourceDiscoveryRequest(new URL(resource), options)
  t.equal(response.url, metadataUrl, 'oauth4webapi derives the same well-known URL')
  const metadata = await oauth.processResourceDiscoveryResponse(new URL(resource), response)
  t.same(metadata.scopes_supported, ['tools:call'])
  const server = metadata.authorization_servers?.[0] as string
  t.equal(server, issuer.issuer)

  const as = await oauth.processDiscoveryResponse(new URL(server), await oauth.discoveryRequest(new URL(server), { ...options, algorithm: 'oidc' }))
  t.equal(as.issuer, issuer.issuer)
  t.type(as.token_endpoint, 'string')

  // The authorization server would now issue a token for the advertised scopes.
  const token = await issuer.token({ scope: (metadata.scopes_supported ?? []).join(' ') })
  const second = await fetch(resource, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  t.equal(second.status, 200)
})

t.test('bearer_methods_supported follows the plugin tokenSources while no protected route is declared', async (t) => {
  const issuer = await createTestIssuer()
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, publicBaseURL: 'https://api.example.com', resourceMetadata: true, tokenSources: ['query', 'header', { cookie: 'at' }] })
  app.get('/public', async () => ({ ok: true }))
  await app.ready()
  // A cookie is no RFC 9728 method: only header, body and query are named.
  t.same((await app.inject({ url: WELL_KNOWN })).json().bearer_methods_supported, ['header', 'query'])
  const plain = Fastify()
  t.teardown(async () => { await plain.close() })
  await plain.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, publicBaseURL: 'https://api.example.com', resourceMetadata: true })
  t.same((await plain.inject({ url: WELL_KNOWN })).json().bearer_methods_supported, ['header'], 'the default: the header alone')
})
