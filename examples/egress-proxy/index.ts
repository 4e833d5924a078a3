/**
 * Behind a company egress proxy: the plugin's outbound requests (discovery, JWKS, token
 * exchange) go through the `fetch` option, here undici's `fetch` with a `ProxyAgent`. Node's
 * global `fetch` ignores HTTPS_PROXY; this makes it explicit. The same option serves a private CA
 * (`new Agent({ connect: { ca } })`) or instrumentation.
 *
 *   HTTPS_PROXY=http://proxy.internal:3128 AUTH0_DOMAIN=tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com/ \
 *     node .build/examples/egress-proxy/index.js
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions, type FetchLike } from 'fastify-auth0-api'
import { fetch as undiciFetch, ProxyAgent } from 'undici'
import { serveExample } from '../serve.js'

/** A `fetch` whose every request goes through the forward proxy at `proxyUrl`. */
export function fetchThroughProxy (proxyUrl: string): { fetch: FetchLike, close: () => Promise<void> } {
  const agent = new ProxyAgent(proxyUrl)
  return {
    // undici's Response is the WHATWG Response the plugin reads.
    fetch: async (input, init) => await (undiciFetch(input, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>),
    close: async () => { await agent.close() }
  }
}

export async function buildEgressProxyApi (proxyUrl: string, options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  const proxied = fetchThroughProxy(proxyUrl)
  app.addHook('onClose', proxied.close)
  await app.register(auth0Plugin, { fetch: proxied.fetch, ...options })
  app.get('/api/private', { preHandler: app.requireAuth() }, async (request) => ({ user: request.claims.sub }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const proxy = process.env.HTTPS_PROXY ?? process.env.https_proxy
  if (proxy === undefined) throw new Error('set HTTPS_PROXY to the forward proxy URL')
  await serveExample(async (local) => ({
    app: await buildEgressProxyApi(proxy, local?.options),
    tries: local === undefined ? [] : [{ status: 200, what: 'keys fetched through the proxy', path: '/api/private', token: await local.issuer.token() }]
  }))
}
