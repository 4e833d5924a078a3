/**
 * The smallest protected API: one public route, one that needs any valid access token.
 *
 *   npm run build:examples && node .build/examples/basic/index.js
 *
 * runs it against a local test issuer and prints curl lines to try; against your tenant:
 *
 *   AUTH0_DOMAIN=tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com/ node .build/examples/basic/index.js
 *   curl -i -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/api/private
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

export async function buildBasic (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  // Omitted options come from AUTH0_DOMAIN / AUTH0_AUDIENCE; a missing one stops start-up.
  await app.register(auth0Plugin, options)

  app.get('/api/public', async () => ({ message: 'no token needed' }))
  app.get('/api/private', { preHandler: app.requireAuth() }, async (request) => ({ message: 'any valid token', user: request.claims.sub }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => ({
    app: await buildBasic(local?.options),
    tries: local === undefined ? [] : [
      { status: 200, what: 'no token needed', path: '/api/public' },
      { status: 200, what: 'any valid token', path: '/api/private', token: await local.issuer.token() },
      { status: 401, what: 'no token', path: '/api/private' },
      { status: 401, what: 'a token for another API (audience)', path: '/api/private', token: await local.issuer.token({ aud: 'https://other.example.com/' }) }
    ]
  }))
}
