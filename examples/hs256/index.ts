/**
 * An API whose Auth0 settings say "Signing Algorithm: HS256": tokens are MACed with the API's
 * signing secret, which this API holds. Only HS256 tokens verify; nothing is fetched from the
 * tenant. Prefer RS256 where you can (docs/hmac.md says why).
 *
 *   npm run build:examples && node .build/examples/hs256/index.js
 *
 * runs it against a local HS256 test issuer and prints curl lines to try; against your tenant:
 *
 *   AUTH0_DOMAIN=tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com/ \
 *   AUTH0_SIGNING_SECRET=… node .build/examples/hs256/index.js
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

export async function buildHs256 (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  // `secret` omitted: AUTH0_SIGNING_SECRET is read (a secret under 32 bytes stops start-up).
  await app.register(auth0Plugin, options)

  app.get('/api/private', { preHandler: app.requireAuth() }, async (request) => ({ user: request.claims.sub }))
  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async () => ({ messages: ['hello'] }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => ({
    app: await buildHs256(local === undefined ? {} : { ...local.options, secret: local.issuer.secret }),
    tries: local === undefined ? [] : [
      { status: 200, what: 'an HS256 token MACed with the API secret', path: '/api/private', token: await local.issuer.token() },
      { status: 200, what: 'with read:messages', path: '/api/messages', token: await local.issuer.token({ scope: 'read:messages' }) },
      { status: 401, what: 'a token MACed with another secret', path: '/api/private', token: await local.issuer.token({}, { signingKey: (await local.issuer.foreignKey()).privateKey }) }
    ]
  }), process.env, undefined, { alg: 'HS256' })
}
