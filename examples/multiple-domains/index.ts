/**
 * Several issuers for one API: Auth0 Multiple Custom Domains, or one API serving several tenants.
 *
 * A static list (`domains: ['tenant.us.auth0.com', 'login.example.com']`) accepts a token from
 * any of them. Here a resolver decides per request: each customer's host accepts only its own
 * tenant's tokens. The token's `iss` is checked against the list *before* any network call, so a
 * token naming any other issuer costs no fetch.
 *
 *   npm run build:examples && node .build/examples/multiple-domains/index.js
 *
 * runs it with two local test issuers (hosts a.example.com and b.example.com) and prints curl
 * lines to try; with your tenants:
 *
 *   TENANTS='{"a.example.com":["tenant-a.us.auth0.com"],"b.example.com":["tenant-b.eu.auth0.com"]}' \
 *   AUTH0_AUDIENCE=https://api.example.com/ node .build/examples/multiple-domains/index.js
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

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
  const tenants = process.env.TENANTS
  // TENANTS names the tenants; without it, two local issuers stand in for them.
  await serveExample(async (local) => {
    if (local === undefined) return { app: await buildMultipleDomains(JSON.parse(tenants ?? '{}') as Tenants) }
    const b = await local.anotherIssuer()
    const a = local.issuer
    return {
      app: await buildMultipleDomains({ 'a.example.com': [a.issuerBaseURL], 'b.example.com': [b.issuerBaseURL] }, { audience: local.audience, env: {} }),
      tries: [
        { status: 200, what: 'host a.example.com, a token from its issuer', path: '/api/whoami', headers: { Host: 'a.example.com' }, token: await a.token() },
        { status: 200, what: 'host b.example.com, a token from its issuer', path: '/api/whoami', headers: { Host: 'b.example.com' }, token: await b.token() },
        { status: 401, what: 'host b.example.com, a token from a.example.com\'s issuer (no fetch)', path: '/api/whoami', headers: { Host: 'b.example.com' }, token: await a.token() }
      ]
    }
  }, process.env, tenants !== undefined)
}
