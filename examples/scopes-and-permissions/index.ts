/**
 * Scopes, Auth0 RBAC permissions and other claim checks, declared per route:
 *
 * - one scope, all of several, any of several;
 * - Auth0 RBAC: enable "Add Permissions in the Access Token" on the API, then check `permissions`;
 * - a claim of your own (here a namespaced roles claim), same matching rules;
 * - optional authentication: anonymous callers get the public view;
 * - a per-resource decision in the handler, which the route spec cannot express.
 *
 *   npm run build:examples && node .build/examples/scopes-and-permissions/index.js
 *
 * runs it against a local test issuer and prints curl lines to try (AUTH0_DOMAIN and
 * AUTH0_AUDIENCE set: against your tenant).
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

const documents = new Map([['1', { owner: 'auth0|alice', text: 'Alice\'s notes' }]])

export async function buildScopesAndPermissions (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(auth0Plugin, options)

  // The token's `scope` must contain read:messages (exact, whole-value match).
  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({ messages: [] }))

  // All of them (default `match: 'all'`).
  app.post('/api/messages', { preHandler: app.requireAuth(['read:messages', 'write:messages']) }, async () => ({ created: true }))

  // Any of them.
  app.get('/api/reports', { preHandler: app.requireAuth({ scopes: ['read:reports', 'admin'], match: 'any' }) }, async () => ({ reports: [] }))

  // Auth0 RBAC permissions; `onRequest` refuses before the body is even read.
  app.delete('/api/messages/:id', { onRequest: app.requireAuth({ scopes: 'delete:messages', claim: 'permissions' }) }, async () => ({ deleted: true }))

  // Any claim holding a string or a list of strings.
  app.get('/api/admin', { preHandler: app.requireAuth({ scopes: 'admin', claim: 'https://example.com/roles' }) }, async () => ({ admin: true }))

  // Optional: no credentials → anonymous; bad credentials are still refused.
  app.get('/api/greeting', { preHandler: app.requireAuth({ optional: true }) }, async (request) => ({
    greeting: request.claims === undefined ? 'Hello, stranger' : `Hello, ${request.claims.sub}`
  }))

  // Whether *this* document belongs to the caller is the handler's decision.
  app.get<{ Params: { id: string } }>('/api/documents/:id', { preHandler: app.requireAuth('read:documents') }, async (request, reply) => {
    const document = documents.get(request.params.id)
    if (document === undefined) return await reply.code(404).send({ error: 'not_found' })
    if (document.owner !== request.claims.sub) return await reply.code(403).send({ error: 'not_your_document' })
    return document
  })
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => ({
    app: await buildScopesAndPermissions(local?.options),
    tries: local === undefined ? [] : [
      { status: 200, what: 'scope read:messages', path: '/api/messages', token: await local.issuer.token({ scope: 'read:messages' }) },
      { status: 403, what: 'a valid token without read:messages', path: '/api/messages', token: await local.issuer.token({ scope: 'profile' }) },
      { status: 403, what: 'POST needs read:messages and write:messages, the token has one', method: 'POST', path: '/api/messages', token: await local.issuer.token({ scope: 'read:messages' }) },
      { status: 200, what: 'any of read:reports or admin', path: '/api/reports', token: await local.issuer.token({ scope: 'admin' }) },
      { status: 200, what: 'Auth0 RBAC permission delete:messages', method: 'DELETE', path: '/api/messages/1', token: await local.issuer.token({ permissions: ['delete:messages'] }) },
      { status: 200, what: 'a custom roles claim holding admin', path: '/api/admin', token: await local.issuer.token({ 'https://example.com/roles': ['admin'] }) },
      { status: 200, what: 'optional authentication, anonymous', path: '/api/greeting' },
      { status: 200, what: 'Alice reads her document', path: '/api/documents/1', token: await local.issuer.token({ sub: 'auth0|alice', scope: 'read:documents' }) },
      { status: 403, what: 'Bob may not (decided in the handler)', path: '/api/documents/1', token: await local.issuer.token({ sub: 'auth0|bob', scope: 'read:documents' }) }
    ]
  }))
}
