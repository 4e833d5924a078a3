/**
 * @fastify/swagger integration: generate the document of a real application (`app.swagger()`),
 * assert on the security requirements, schemes and 401/403 responses the plugin adds, and check
 * the whole document with the structural OpenAPI validator in test/helpers/openapi.ts.
 */
import swagger, { type SwaggerOptions } from '@fastify/swagger'
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import t, { type Test } from 'tap'
import { parse as parseYaml } from 'yaml'
import auth0Plugin, { AuthErrorBody, type Auth0PluginOptions } from '../../lib/index.js'
import { MARKER } from '../../lib/openapi/swagger.js'
import { toYaml } from '../../lib/openapi/yaml.js'
import { openApiProblems } from '../helpers/openapi.js'

const AUDIENCE = 'https://api.example.com/'
const ISSUER = 'https://tenant.example.com/'
type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function build (t: Test, options: { auth?: Partial<Auth0PluginOptions>, swagger?: SwaggerOptions | false, swaggerFirst?: boolean, routes: (app: FastifyInstance) => void }): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  const registerSwagger = async (): Promise<void> => {
    if (options.swagger !== false) await app.register(swagger, options.swagger ?? { openapi: { openapi: '3.1.0', info: { title: 'Test API', version: '1.0.0' } } })
  }
  if (options.swaggerFirst !== false) await registerSwagger()
  await app.register(auth0Plugin, { issuerBaseURL: ISSUER, audience: AUDIENCE, env: {}, ...options.auth })
  if (options.swaggerFirst === false) await registerSwagger()
  options.routes(app)
  await app.ready()
  return app
}

const OIDC = { type: 'openIdConnect', openIdConnectUrl: `${ISSUER}.well-known/openid-configuration`, description: `Access token from ${ISSUER} for the audience ${AUDIENCE}, with the scopes each operation lists; sent as "Authorization: Bearer <token>".` }
const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/AuthErrorBody' } } }

t.test('OpenAPI 3.1: security with the route scopes, Bearer and DPoP schemes, 401/403 responses', async (t) => {
  const app = await build(t, {
    routes (app) {
      app.get('/public', async () => ({ ok: true }))
      app.get('/private', { preHandler: app.requireAuth() }, async () => ({ ok: true }))
      app.get('/messages/:id', { preHandler: app.requireAuth('read:messages') }, async () => ({ ok: true }))
      app.post('/data', { preHandler: app.requireAuth(['read:data', 'write:data']) }, async () => ({ ok: true }))
      app.get('/admin', { onRequest: app.requireAuth({ scopes: ['admin', 'owner'], match: 'any', claim: 'permissions' }) }, async () => ({ ok: true }))
      app.get('/maybe', { preHandler: app.requireAuth({ optional: true }) }, async () => ({ ok: true }))
      app.get('/dpop-only', { preHandler: app.requireAuth({ dpop: 'required' }) }, async () => ({ ok: true }))
    }
  })
  const doc = app.swagger() as Doc
  t.same(openApiProblems(doc), [], 'a structurally valid OpenAPI 3.1 document')
  t.same(doc.components.securitySchemes, {
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: `OAuth 2.0 access token (JWT) issued by ${ISSUER}, sent as "Authorization: Bearer <token>".` },
    dpopAuth: { type: 'http', scheme: 'DPoP', description: `DPoP-bound access token (RFC 9449) issued by ${ISSUER}, sent as "Authorization: DPoP <token>" together with a DPoP proof JWT in the "DPoP" header (proof algorithms: ES256).` },
    oidc: OIDC
  })
  t.same(doc.components.schemas.AuthErrorBody, JSON.parse(JSON.stringify(AuthErrorBody)), 'the TypeBox schema of the error body')
  const p = doc.paths
  t.same(p['/public'].get, { responses: { 200: { description: 'Default Response' } } }, 'an unprotected route is left alone')
  t.same(p['/private'].get.security, [{ bearerAuth: [] }, { dpopAuth: [] }, { oidc: [] }])
  t.same(p['/private'].get.responses['401'], { description: 'Unauthorized: the access token is missing or invalid; see the WWW-Authenticate header', content: errorContent })
  t.notOk('403' in p['/private'].get.responses, 'no scope, no 403')
  t.same(p['/messages/{id}'].get.security, [{ bearerAuth: ['read:messages'] }, { dpopAuth: ['read:messages'] }, { oidc: ['read:messages'] }])
  t.same(p['/messages/{id}'].get.responses['403'], { description: 'Forbidden: the access token lacks the required scope (read:messages)', content: errorContent })
  t.same(p['/data'].post.security, [{ bearerAuth: ['read:data', 'write:data'] }, { dpopAuth: ['read:data', 'write:data'] }, { oidc: ['read:data', 'write:data'] }])
  t.equal(p['/data'].post.responses['403'].description, 'Forbidden: the access token lacks the required scope (read:data and write:data)')
  t.same(p['/admin'].get.security, [{ bearerAuth: ['admin'] }, { dpopAuth: ['admin'] }, { bearerAuth: ['owner'] }, { dpopAuth: ['owner'] }, { oidc: ['admin'] }, { oidc: ['owner'] }], 'match any: alternatives (RBAC permissions are the API\'s scopes)')
  t.equal(p['/admin'].get.responses['403'].description, 'Forbidden: the access token lacks the required scope (admin, or owner)')
  t.same(p['/maybe'].get.security, [{ bearerAuth: [] }, { dpopAuth: [] }, { oidc: [] }, {}], 'optional: anonymous allowed')
  t.match(p['/maybe'].get.responses['401'].description, /the request may also be sent without any/)
  t.same(p['/dpop-only'].get.security, [{ dpopAuth: [] }], 'DPoP only: no openIdConnect alternative (a tool would send its token as Bearer)')
  t.notMatch(JSON.stringify(doc), MARKER, 'no trace of the internal marker')
  t.equal(app.swagger(), doc, 'the same cached document on the next call')
})

t.test('OpenAPI 3.0: scope lists stay empty for http schemes and go under openIdConnect (3.0 allows scopes only for oauth2/OIDC)', async (t) => {
  const app = await build(t, {
    swagger: { openapi: { info: { title: 'Test API', version: '1.0.0' } } },
    routes (app) {
      app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({ ok: true }))
      app.get('/admin', { preHandler: app.requireAuth({ scopes: ['admin', 'owner'], match: 'any' }) }, async () => ({ ok: true }))
    }
  })
  const doc = app.swagger() as Doc
  t.equal(doc.openapi, '3.0.3')
  t.same(openApiProblems(doc), [])
  t.same(doc.paths['/messages'].get.security, [{ bearerAuth: [] }, { dpopAuth: [] }, { oidc: ['read:messages'] }])
  t.same(doc.paths['/admin'].get.security, [{ bearerAuth: [] }, { dpopAuth: [] }, { oidc: ['admin'] }, { oidc: ['owner'] }], 'http alternatives that differ only by scope collapse; the openIdConnect ones keep them')
  t.same(doc.components.securitySchemes.oidc, OIDC)
  t.equal(doc.paths['/admin'].get.responses['403'].description, 'Forbidden: the access token lacks the required scope (admin, or owner)', 'the scopes are still documented')
})

t.test('the application keeps its own schema, security and responses', async (t) => {
  const shared = {
    tags: ['messages'],
    summary: 'A message',
    querystring: { type: 'object', properties: { full: { type: 'boolean' } } },
    response: { 200: { type: 'object', properties: { text: { type: 'string' } } } }
  }
  const snapshot = JSON.stringify(shared)
  const app = await build(t, {
    swagger: {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Test API', version: '1.0.0' },
        components: { securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } } }
      }
    },
    routes (app) {
      app.get('/a', { schema: shared, preHandler: app.requireAuth('read:a') }, async () => ({ text: 'a' }))
      app.get('/b', { schema: shared, preHandler: app.requireAuth('read:b') }, async () => ({ text: 'b' }))
      app.get('/own-security', {
        schema: { security: [{ apiKey: [] }], response: { 401: { description: 'Our own 401', type: 'object', properties: { message: { type: 'string' } } } } },
        preHandler: app.requireAuth('read:c')
      }, async () => ({ ok: true }))
    }
  })
  const doc = app.swagger() as Doc
  t.same(openApiProblems(doc), [])
  t.equal(JSON.stringify(shared), snapshot, 'a schema shared by two routes is not modified')
  t.same(doc.paths['/a'].get.security, [{ bearerAuth: ['read:a'] }, { dpopAuth: ['read:a'] }, { oidc: ['read:a'] }])
  t.same(doc.paths['/b'].get.security, [{ bearerAuth: ['read:b'] }, { dpopAuth: ['read:b'] }, { oidc: ['read:b'] }])
  t.same(doc.paths['/a'].get.tags, ['messages'])
  t.same(doc.paths['/a'].get.parameters, [{ schema: { type: 'boolean' }, in: 'query', name: 'full', required: false }])
  t.same(Object.keys(doc.paths['/a'].get.responses), ['200', '401', '403'])
  t.same(doc.paths['/own-security'].get.security, [{ apiKey: [] }], 'a security the route declares wins')
  t.equal(doc.paths['/own-security'].get.responses['401'].description, 'Our own 401')
  t.ok(doc.paths['/own-security'].get.responses['403'] !== undefined, 'the 403 is still added')
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearerAuth', 'dpopAuth', 'oidc'])

  const res = await app.inject({ url: '/a', headers: { authorization: 'Bearer x' } })
  t.equal(res.statusCode, 401, 'and the routes still refuse')
  t.same(Object.keys(res.json()), ['detail'])
})

t.test('nothing to add: own security everywhere, or a document without paths', async (t) => {
  const own = await build(t, {
    swagger: {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Test API', version: '1.0.0' },
        components: { securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } } }
      }
    },
    routes (app) { app.get('/a', { schema: { security: [{ apiKey: [] }] }, preHandler: app.requireAuth() }, async () => ({})) }
  })
  const doc = own.swagger() as Doc
  t.same(openApiProblems(doc), [])
  t.same(Object.keys(doc.components.securitySchemes), ['apiKey'], 'no unused scheme is added')
  t.ok(doc.paths['/a'].get.responses['401'])

  const pathless = await build(t, {
    swagger: { openapi: { openapi: '3.1.0', info: { title: 'Test API', version: '1.0.0' } }, transformObject: (documentObject) => ({ ...(documentObject as { openapiObject: object }).openapiObject, paths: undefined }) as never },
    routes (app) { app.get('/a', { preHandler: app.requireAuth() }, async () => ({})) }
  })
  const empty = pathless.swagger() as Doc
  t.equal(empty.paths, undefined)
  t.same(empty.components, { schemas: {} })
})

t.test('openIdConnect: OAuth scopes only (scope, scp, permissions), not the values of other claims; false leaves it out', async (t) => {
  const routes = (app: FastifyInstance): void => {
    app.get('/roles', { preHandler: app.requireAuth({ scopes: ['editor'], claim: 'https://example.com/roles' }) }, async () => ({}))
    app.get('/scp', { preHandler: app.requireAuth({ scopes: ['files.read'], claim: 'scp' }) }, async () => ({}))
    app.get('/both', { onRequest: app.requireAuth('read:messages'), preHandler: app.requireAuth({ scopes: ['editor'], claim: 'https://example.com/roles' }) }, async () => ({}))
  }
  const app = await build(t, { swagger: { openapi: { info: { title: 'Test API', version: '1.0.0' } } }, routes })
  const doc = app.swagger() as Doc
  t.same(openApiProblems(doc), [])
  t.same(doc.paths['/roles'].get.security, [{ bearerAuth: [] }, { dpopAuth: [] }, { oidc: [] }], 'a role is not a scope a client can ask for')
  t.equal(doc.paths['/roles'].get.responses['403'].description, 'Forbidden: the access token lacks the required scope (editor)', 'still documented in the 403')
  t.same(doc.paths['/scp'].get.security, [{ bearerAuth: [] }, { dpopAuth: [] }, { oidc: ['files.read'] }])
  t.same(doc.paths['/both'].get.security, [{ bearerAuth: [] }, { dpopAuth: [] }, { oidc: ['read:messages'] }])

  const off = await build(t, { auth: { openapi: { oidcScheme: false } }, routes })
  const plain = off.swagger() as Doc
  t.same(plain.paths['/scp'].get.security, [{ bearerAuth: ['files.read'] }, { dpopAuth: ['files.read'] }])
  t.same(Object.keys(plain.components.securitySchemes), ['bearerAuth', 'dpopAuth'])
})

t.test('several issuers: one openIdConnect scheme per issuer, named after its host; a resolver gives none', async (t) => {
  const routes = (app: FastifyInstance): void => { app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({})) }
  const issuers = ['https://tenant.us.auth0.com/', 'https://login.example.com/', 'https://idp.example.org/realms/api', 'http://127.0.0.1:8080/', 'https://127.0.0.1:8080/']
  const app = await build(t, { auth: { issuerBaseURL: undefined, domains: [issuers[0] as string, 'login.example.com', ...issuers.slice(2)] }, routes })
  const doc = app.swagger() as Doc
  t.same(openApiProblems(doc), [])
  const names = ['oidc-tenant.us.auth0.com', 'oidc-login.example.com', 'oidc-idp.example.org_realms_api', 'oidc-127.0.0.1_8080', 'oidc-127.0.0.1_8080-2']
  t.same(doc.paths['/messages'].get.security, [{ bearerAuth: ['read:messages'] }, { dpopAuth: ['read:messages'] }, ...names.map((name) => ({ [name]: ['read:messages'] }))])
  t.same(names.map((name) => doc.components.securitySchemes[name].openIdConnectUrl), [
    'https://tenant.us.auth0.com/.well-known/openid-configuration',
    'https://login.example.com/.well-known/openid-configuration',
    'https://idp.example.org/realms/api/.well-known/openid-configuration',
    'http://127.0.0.1:8080/.well-known/openid-configuration',
    'https://127.0.0.1:8080/.well-known/openid-configuration'
  ])

  const resolved = await build(t, { auth: { issuerBaseURL: undefined, domains: () => [ISSUER] }, routes })
  const byResolver = resolved.swagger() as Doc
  t.same(byResolver.paths['/messages'].get.security, [{ bearerAuth: ['read:messages'] }, { dpopAuth: ['read:messages'] }], 'issuers known only per request: no scheme to describe')
  t.same(Object.keys(byResolver.components.securitySchemes), ['bearerAuth', 'dpopAuth'])
})

t.test('DPoP disabled: Bearer only; custom scheme names, error schema and decorator', async (t) => {
  const errorSchema = { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' } } }
  const app = await build(t, {
    auth: { dpop: { mode: 'disabled' }, openapi: { bearerScheme: 'auth0', dpopScheme: 'auth0-dpop', oidcScheme: 'tenant', errorSchema, decorator: ['internalSwagger', 'missingDecorator'] } },
    swagger: { openapi: { openapi: '3.1.0', info: { title: 'Test API', version: '1.0.0' } }, decorator: 'internalSwagger' },
    routes (app) {
      app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({ ok: true }))
    }
  })
  const doc = (app as unknown as { internalSwagger: () => Doc }).internalSwagger()
  t.same(openApiProblems(doc), [])
  t.same(doc.paths['/messages'].get.security, [{ auth0: ['read:messages'] }, { tenant: ['read:messages'] }])
  t.same(Object.keys(doc.components.securitySchemes), ['auth0', 'tenant'])
  t.same(doc.components.schemas.AuthErrorBody, errorSchema)
})

t.test('several stacked requireAuth hooks: the cross product of their alternatives, bounded', async (t) => {
  const app = await build(t, {
    routes (app) {
      app.get('/two', {
        onRequest: app.requireAuth({ scopes: ['a', 'b'], match: 'any' }),
        preHandler: [app.requireAuth({ scopes: ['c', 'd'], match: 'any', optional: true })]
      }, async () => ({ ok: true }))
      const many = Array.from({ length: 6 }, (_, i) => app.requireAuth({ scopes: [`x${i}`, `y${i}`], match: 'any' }))
      app.get('/many', { preHandler: many }, async () => ({ ok: true }))
    }
  })
  const doc = app.swagger() as Doc
  t.same(doc.paths['/two'].get.security.filter((r: Doc) => 'bearerAuth' in r).map((r: Doc) => r.bearerAuth), [['a', 'c'], ['a', 'd'], ['b', 'c'], ['b', 'd']])
  t.notOk(doc.paths['/two'].get.security.some((r: Doc) => Object.keys(r).length === 0), 'not anonymous: one hook is not optional')
  t.equal(doc.paths['/many'].get.security.length, 96, '32 scope sets × 3 schemes')
})

t.test('YAML output is the same completed document', async (t) => {
  const app = await build(t, {
    routes (app) { app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({ ok: true })) }
  })
  const yaml = app.swagger({ yaml: true }) as unknown as string
  t.same(parseYaml(yaml), app.swagger())
  t.equal(app.swagger({ yaml: true }), yaml, 'cached')
})

t.test('the YAML emitter keeps every JSON value and type', async (t) => {
  const value = {
    openapi: '3.1.0',
    version: '1.0',
    'x-number': 42,
    'x-float': -1.5,
    true: true,
    off: false,
    nothing: null,
    '200': { description: 'OK' },
    'application/json': {},
    list: [],
    dropped: undefined,
    fn: () => 1,
    nested: [['a', 'b'], [], { k: [1, undefined, () => 1] }, {}, 'line\nbreak "quoted"']
  }
  const yaml = toYaml(value)
  t.equal(yaml, [
    '"200":',
    '  description: "OK"',
    'openapi: "3.1.0"',
    'version: "1.0"',
    'x-number: 42',
    'x-float: -1.5',
    '"true": true',
    '"off": false',
    'nothing: null',
    '"application/json": {}',
    'list: []',
    'nested:',
    '  - - "a"',
    '    - "b"',
    '  - []',
    '  - k:',
    '      - 1',
    '      - null',
    '      - null',
    '  - {}',
    '  - "line\\nbreak \\"quoted\\""',
    ''
  ].join('\n'))
  t.same(parseYaml(yaml), JSON.parse(JSON.stringify(value)))
  t.equal(toYaml({}), '{}\n')
  t.equal(toYaml([]), '[]\n')
  t.equal(toYaml(['x']), '- "x"\n')
  t.equal(toYaml('text'), '"text"\n')
})

t.test('Swagger 2.0 documents: the marker is removed and nothing else is added', async (t) => {
  const app = await build(t, {
    swagger: { swagger: { info: { title: 'Test API', version: '1.0.0' } } },
    routes (app) { app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({ ok: true })) }
  })
  const doc = app.swagger() as Doc
  t.equal(doc.swagger, '2.0')
  t.same(doc.paths['/messages'].get, { responses: { 200: { description: 'Default Response' } } })
})

t.test('route schemas are touched only when @fastify/swagger is registered and the integration is on', async (t) => {
  const seen = new Map<string, RouteOptions['schema']>()
  const capture = (app: FastifyInstance): void => { app.addHook('onRoute', (route) => { if (route.method === 'GET') seen.set(route.url, route.schema) }) }
  await build(t, {
    swagger: false,
    routes (app) { capture(app); app.get('/no-swagger', { preHandler: app.requireAuth('a') }, async () => ({})) }
  })
  t.equal(seen.get('/no-swagger'), undefined)

  const off = await build(t, {
    auth: { openapi: false },
    routes (app) { capture(app); app.get('/off', { preHandler: app.requireAuth('a') }, async () => ({})) }
  })
  t.equal(seen.get('/off'), undefined)
  t.equal((off.swagger() as Doc).paths['/off'].get.security, undefined)

  const after = await build(t, {
    swaggerFirst: false,
    routes (app) { app.get('/after', { preHandler: app.requireAuth('a') }, async () => ({})) }
  })
  t.same((after.swagger() as Doc).paths['/after'].get.security, [{ bearerAuth: ['a'] }, { dpopAuth: ['a'] }, { oidc: ['a'] }], '@fastify/swagger registered after the plugin')
})

t.test('@fastify/swagger registered inside an encapsulated context: the marker stays, as a valid extension', async (t) => {
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  await app.register(auth0Plugin, { issuerBaseURL: ISSUER, audience: AUDIENCE, env: {} })
  let doc: Doc | undefined
  await app.register(async (child) => {
    await child.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Child', version: '1' } } })
    child.get('/messages', { preHandler: child.requireAuth('read:messages') }, async () => ({}))
    child.addHook('onReady', async () => { doc = child.swagger() as Doc })
  })
  await app.ready()
  t.same(openApiProblems(doc), [])
  t.same(doc?.paths['/messages'].get[MARKER], { schemes: ['bearer', 'dpop'], scopeSets: [['read:messages']], oauthScopeSets: [['read:messages']], optional: false })
  t.equal(doc?.paths['/messages'].get.security, undefined)
})

t.test('start-up refuses bad openapi options', async (t) => {
  const refused: Array<[unknown, RegExp]> = [
    ['yes', /openapi must be true, false or an options object \(got string\)/],
    [{ scheme: 'bearer' }, /openapi: unknown option "scheme" \(known: bearerScheme, dpopScheme, oidcScheme, decorator, errorSchema\)/],
    [{ oidcScheme: 'open id' }, /oidcScheme must be a security scheme name/],
    [{ oidcScheme: true }, /oidcScheme must be a security scheme name/],
    [{ oidcScheme: 'bearerAuth' }, /oidcScheme "bearerAuth" is already the name of the Bearer or DPoP scheme/],
    [{ bearerScheme: 'bearer auth' }, /bearerScheme must be a security scheme name/],
    [{ dpopScheme: 42 }, /dpopScheme must be a security scheme name/],
    [{ bearerScheme: 'auth', dpopScheme: 'auth' }, /bearerScheme and dpopScheme must differ/],
    [{ decorator: [] }, /decorator must be a decorator name or a list of them/],
    [{ decorator: '' }, /decorator must be a decorator name/],
    [{ errorSchema: 'AuthError' }, /errorSchema must be a JSON schema object/]
  ]
  for (const [openapi, message] of refused) {
    const app = Fastify()
    await t.rejects(async () => {
      await app.register(auth0Plugin, { issuerBaseURL: ISSUER, audience: AUDIENCE, env: {}, openapi: openapi as never })
    }, { message }, JSON.stringify(openapi))
    await app.close()
  }
  const on = Fastify()
  t.teardown(async () => { await on.close() })
  await t.resolves(async () => { await on.register(auth0Plugin, { issuerBaseURL: ISSUER, audience: AUDIENCE, env: {}, openapi: true }) })
})
