/**
 * OpenAPI documentation with @fastify/swagger: register it, protect routes with `requireAuth`,
 * and the document gets the security schemes, each route's security requirements (with its
 * scopes) and the 401/403 responses, with no auth schema written by hand.
 *
 *   GET /documentation/json   the OpenAPI 3.1 document
 *   GET /documentation/yaml   the same, as YAML
 *   GET /docs                 Swagger UI (@fastify/swagger-ui): each operation's scopes, and a
 *                             login through the issuer (SWAGGER_UI_CLIENT_ID: an SPA client id)
 *   GET /docs/openid-configuration
 *                             the issuer's discovery document, copied to this origin with the
 *                             API's scopes added, for Swagger UI (see docs/openapi.md)
 *
 *   npm run build:examples && node .build/examples/swagger/index.js
 *
 * runs it against a local test issuer and prints curl lines to try (AUTH0_DOMAIN and
 * AUTH0_AUDIENCE set: against your tenant).
 */
import { pathToFileURL } from 'node:url'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

const Message = Type.Object({ id: Type.String(), text: Type.String() }, { title: 'Message' })

const DISCOVERY_COPY = '/docs/openid-configuration'

interface OpenApiDocument {
  components?: { securitySchemes?: Record<string, { openIdConnectUrl?: string }> }
  paths?: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>
}

/**
 * Swagger UI fetches an openIdConnect scheme's discovery document from the browser (a cross-origin
 * request: the issuer must allow this origin) and offers only the scopes of its `scopes_supported`,
 * a tenant-wide list: Auth0's names OpenID Connect scopes, not an API's permissions. This copy,
 * served from the API's origin, adds the scopes the document's routes require under `oidc`.
 */
async function discoveryForSwaggerUi (app: FastifyInstance, reply: FastifyReply): Promise<Record<string, unknown>> {
  const document = app.swagger() as OpenApiDocument
  const url = document.components?.securitySchemes?.oidc?.openIdConnectUrl
  if (url === undefined) return await reply.code(404).send({ message: 'no openIdConnect scheme' })
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)
  if (res?.ok !== true) return await reply.code(502).send({ message: 'the issuer\'s discovery document could not be read' })
  const discovery = await res.json() as Record<string, unknown>
  const scopes = new Set(Array.isArray(discovery.scopes_supported) ? discovery.scopes_supported as string[] : [])
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) for (const requirement of operation.security ?? []) for (const scope of requirement.oidc ?? []) scopes.add(scope)
  }
  return { ...discovery, scopes_supported: [...scopes] }
}

export async function buildSwagger (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Messages API', version: '1.0.0' },
      servers: [{ url: 'https://api.example.com' }]
    }
  })
  await app.register(auth0Plugin, options)
  const audience = options.audience ?? process.env.AUTH0_AUDIENCE
  app.get(DISCOVERY_COPY, { schema: { hide: true } }, async (_request, reply) => await discoveryForSwaggerUi(app, reply))
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // Swagger UI reads the openIdConnect scheme's discovery document from this origin: no CORS
    // needed from the issuer, and the scopes it lists include the API's.
    transformSpecification: (document, request) => {
      const oidc = (document as OpenApiDocument).components?.securitySchemes?.oidc
      if (oidc?.openIdConnectUrl !== undefined) oidc.openIdConnectUrl = `${request.protocol}://${request.host}${DISCOVERY_COPY}`
      return document
    },
    // Logging in through the issuer's openIdConnect scheme: an SPA client with PKCE, and Auth0's
    // `audience`, without which the token would not be a JWT for this API.
    initOAuth: {
      clientId: process.env.SWAGGER_UI_CLIENT_ID ?? '',
      usePkceWithAuthorizationCodeGrant: true,
      scopes: ['openid'],
      ...(audience === undefined ? {} : { additionalQueryStringParams: { audience: Array.isArray(audience) ? audience[0] : audience } })
    }
  })

  app.get('/documentation/json', { schema: { hide: true } }, async () => app.swagger())
  app.get('/documentation/yaml', { schema: { hide: true } }, async (_request, reply) => await reply.type('application/yaml').send(app.swagger({ yaml: true })))

  app.get('/messages', {
    schema: { summary: 'List messages', tags: ['messages'], response: { 200: Type.Array(Message) } },
    preHandler: app.requireAuth('read:messages')
  }, async () => [{ id: '1', text: 'hello' }])

  app.post('/messages', {
    schema: { summary: 'Create a message', tags: ['messages'], body: Type.Object({ text: Type.String() }), response: { 201: Message } },
    preHandler: app.requireAuth(['read:messages', 'write:messages'])
  }, async (_request, reply) => await reply.code(201).send({ id: '2', text: 'created' }))

  app.get('/messages/:id', {
    schema: { summary: 'One message', tags: ['messages'], params: Type.Object({ id: Type.String() }), response: { 200: Message } },
    preHandler: app.requireAuth({ scopes: ['read:messages', 'admin'], match: 'any' })
  }, async (request) => ({ id: (request.params as { id: string }).id, text: 'hello' }))

  app.get('/health', { schema: { summary: 'Liveness', tags: ['ops'] } }, async () => ({ ok: true }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => ({
    app: await buildSwagger(local?.options),
    tries: local === undefined ? [] : [
      { status: 200, what: 'the OpenAPI document', path: '/documentation/json' },
      { status: 200, what: 'scope read:messages', path: '/messages', token: await local.issuer.token({ scope: 'read:messages' }) },
      { status: 401, what: 'no token', path: '/messages' }
    ]
  }))
}
