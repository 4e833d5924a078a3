/**
 * Several issuers for one API: Auth0 Multiple Custom Domains, or one API serving several tenants.
 *
 * A static list (`domains: ['tenant.us.auth0.com', 'login.example.com']`) accepts a token from
 * any of them. Here a resolver decides per request: each customer's host accepts only its own
 * tenant's tokens. The token's `iss` is checked against the list *before* any network call, so a
 * token naming any other issuer costs no fetch.
 *
 *   TENANTS='{"a.example.com":["tenant-a.us.auth0.com"],"b.example.com":["tenant-b.eu.auth0.com"]}'
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'

/** Host the API is called on → issuers (bare domains or URLs) whose tokens it accepts. */
export type Tenants = Record<string, string[]>

export async function buildMultipleDomains (tenants: Tenants, options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(auth0Plugin, {
    // `unverifiedIss` is attacker-controlled: only compare it, as the plugin does with the list.
    domains: ({ request }) => tenants[String(request.headers.host).toLowerCase()] ?? [],
    ...options
  })

  app.get('/api/whoami', { preHandler: app.requireAuth() }, async (request) => ({ user: request.claims.sub, issuer: request.claims.iss }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const app = await buildMultipleDomains(JSON.parse(process.env.TENANTS ?? '{}') as Tenants)
  console.log(`Listening on ${await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })}`)
}
