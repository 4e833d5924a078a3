/**
 * The example API: public, private and scoped routes, protected by fastify-auth0-api.
 * `npm run demo` serves it against a local test issuer (or your tenant, from .env).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'

export async function buildApi (
  options: Auth0PluginOptions = {},
  logger: FastifyServerOptions['logger'] = { level: process.env.LOG_LEVEL ?? 'warn' }
): Promise<FastifyInstance> {
  const app = Fastify({ logger })
  // Omitted options come from AUTH0_DOMAIN / AUTH0_AUDIENCE, validated at start-up.
  await app.register(auth0Plugin, options)

  app.get('/api/public', async () => ({ message: 'Hello from a public endpoint: no token needed.' }))

  app.get('/api/private', { preHandler: app.requireAuth() }, async (request) => ({
    message: 'Hello from a private endpoint: any valid token.',
    user: request.claims.sub
  }))

  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({
    message: 'Hello from a scoped endpoint: the token carries read:messages.',
    user: request.claims.sub
  }))

  app.get('/api/admin', {
    preHandler: app.requireAuth({ scopes: ['admin', 'owner'], match: 'any', claim: 'permissions' })
  }, async (request) => ({ message: 'Hello admin.', user: request.claims.sub }))

  return app
}
