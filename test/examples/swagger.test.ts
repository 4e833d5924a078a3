/**
 * examples/swagger: the served OpenAPI document validates as OpenAPI 3 (structural check, see
 * test/helpers/openapi.ts) and documents the authentication of every protected route.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { buildSwagger } from '../../examples/swagger/index.js'
import { openApiProblems } from '../helpers/openapi.js'

t.test('the OpenAPI document of examples/swagger', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildSwagger({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })

  const res = await app.inject({ url: '/documentation/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.same(openApiProblems(doc), [], 'valid OpenAPI 3 (structural check)')
  t.equal(doc.openapi, '3.1.0')
  t.same(Object.keys(doc.paths).sort(), ['/health', '/messages', '/messages/{id}'])
  t.same(doc.paths['/messages'].get.security, [{ bearerAuth: ['read:messages'] }, { dpopAuth: ['read:messages'] }, { oidc: ['read:messages'] }])
  t.same(doc.paths['/messages'].post.security, [{ bearerAuth: ['read:messages', 'write:messages'] }, { dpopAuth: ['read:messages', 'write:messages'] }, { oidc: ['read:messages', 'write:messages'] }])
  t.same(doc.paths['/messages/{id}'].get.security, [{ bearerAuth: ['read:messages'] }, { dpopAuth: ['read:messages'] }, { bearerAuth: ['admin'] }, { dpopAuth: ['admin'] }, { oidc: ['read:messages'] }, { oidc: ['admin'] }])
  t.same(Object.keys(doc.paths['/messages'].post.responses), ['201', '401', '403'])
  t.equal(doc.paths['/health'].get.security, undefined)
  t.same(Object.keys(doc.components.securitySchemes), ['bearerAuth', 'dpopAuth', 'oidc'])
  t.same(doc.components.securitySchemes.oidc.openIdConnectUrl, issuer.discoveryUrl, 'the scopes under the issuer\'s OpenID Connect discovery')
  t.ok(doc.components.schemas.AuthErrorBody)

  const yaml = await app.inject({ url: '/documentation/yaml' })
  t.equal(yaml.headers['content-type'], 'application/yaml')
  t.same(parseYaml(yaml.body), doc)

  const ui = await app.inject({ url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /^text\/html/)
  t.match(ui.body, /swagger-ui/)
  const uiDocument = await app.inject({ url: '/docs/json' })
  const copyUrl = 'http://localhost:80/docs/openid-configuration'
  t.same(uiDocument.json(), { ...doc, components: { ...doc.components, securitySchemes: { ...doc.components.securitySchemes, oidc: { ...doc.components.securitySchemes.oidc, openIdConnectUrl: copyUrl } } } },
    'Swagger UI reads the same completed document, its discovery document from this origin')

  // The same-origin copy: the issuer's document, its scopes_supported completed with the API's.
  issuer.setDiscovery({ authorization_endpoint: `${issuer.issuerBaseURL}authorize`, scopes_supported: ['openid', 'profile', 'read:messages'] })
  const copy = await app.inject({ url: '/docs/openid-configuration' })
  t.equal(copy.statusCode, 200)
  const direct = await (await fetch(issuer.discoveryUrl)).json() as Record<string, unknown>
  t.same(copy.json(), { ...direct, scopes_supported: ['openid', 'profile', 'read:messages', 'write:messages', 'admin'] }, 'every field as the issuer sends it, the API\'s scopes added once')
  t.notOk(doc.paths['/documentation/json'], 'neither route is in the document')
  t.notOk(doc.paths['/docs/openid-configuration'])
  const initOAuth = await app.inject({ url: '/docs/static/swagger-initializer.js' })
  t.equal(initOAuth.statusCode, 200)
  t.match(initOAuth.body, /additionalQueryStringParams/, 'login with the API\'s audience')

  const refused = await app.inject({ method: 'POST', url: '/messages', payload: { text: 'x' }, headers: { authorization: `Bearer ${await issuer.token({ scope: 'read:messages' })}` } })
  t.equal(refused.statusCode, 403)
  const created = await app.inject({ method: 'POST', url: '/messages', payload: { text: 'x' }, headers: { authorization: `Bearer ${await issuer.token({ scope: 'read:messages write:messages' })}` } })
  t.equal(created.statusCode, 201)
  t.same(created.json(), { id: '2', text: 'created' })

  // The issuer unreachable: a 502 for the copy, the API itself unaffected by it.
  issuer.outage({ discovery: 'status-503' })
  t.equal((await app.inject({ url: '/docs/openid-configuration' })).statusCode, 502)
})

t.test('without an openIdConnect scheme (oidcScheme: false) the copy is a 404 and the document is left alone', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildSwagger({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {}, openapi: { oidcScheme: false } })
  t.teardown(async () => { await app.close(); await issuer.close() })
  t.equal((await app.inject({ url: '/docs/openid-configuration' })).statusCode, 404)
  t.same((await app.inject({ url: '/docs/json' })).json(), (await app.inject({ url: '/documentation/json' })).json())
})
