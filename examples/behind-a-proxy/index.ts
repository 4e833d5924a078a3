/**
 * Behind a reverse proxy or load balancer that terminates TLS and maps
 * https://example.com/api/* to this server's /*.
 *
 * - `trustProxy` lets Fastify read X-Forwarded-Proto / -Host (only from your proxy: give its
 *   address instead of `true` in production);
 * - `publicBaseURL` is the URL clients use. The plugin builds every URL it shows clients from it
 *   (DPoP `htu` checks, the RFC 9728 resource and `resource_metadata=`), since a path prefix the
 *   proxy strips cannot be recovered from forwarded headers.
 *
 * The metadata URL is https://example.com/.well-known/oauth-protected-resource/api (RFC 9728
 * §3.1); the proxy must forward that path unchanged to this server.
 *
 *   npm run build:examples && node .build/examples/behind-a-proxy/index.js
 *
 * runs it against a local test issuer and prints curl lines that send what the proxy would
 * (AUTH0_DOMAIN and AUTH0_AUDIENCE set: against your tenant).
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

export async function buildBehindAProxy (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ trustProxy: true, logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(auth0Plugin, {
    publicBaseURL: 'https://example.com/api', // or AUTH0_PUBLIC_BASE_URL
    resourceMetadata: { resourceName: 'Example API' },
    ...options
  })

  app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({
    user: request.claims.sub,
    // What Fastify derived from the forwarded headers.
    seenAs: `${request.protocol}://${request.host}${request.url}`
  }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'example.com' }
  await serveExample(async (local) => ({
    app: await buildBehindAProxy(local?.options),
    tries: local === undefined ? [] : [
      { status: 200, what: 'scope read:messages, through the proxy', path: '/messages', headers: forwarded, token: await local.issuer.token({ scope: 'read:messages' }) },
      { status: 403, what: 'a valid token without read:messages', path: '/messages', headers: forwarded, token: await local.issuer.token({ scope: 'profile' }) },
      { status: 200, what: 'RFC 9728 metadata with the public URLs', path: '/.well-known/oauth-protected-resource/api' }
    ]
  }))
}
