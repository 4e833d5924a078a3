/**
 * Typed custom claims: declaration merging adds your claims to `AccessTokenClaims`, so
 * `request.claims` knows them everywhere, with no cast. Auth0 custom claims are namespaced URLs
 * (added by an Action); `org_id` comes with Auth0 Organizations.
 *
 *   npm run build:examples && node .build/examples/custom-claims-typing/index.js
 *
 * runs it against a local test issuer and prints curl lines to try (AUTH0_DOMAIN and
 * AUTH0_AUDIENCE set: against your tenant).
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type AccessTokenClaims, type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

declare module 'fastify-auth0-api' {
  interface AccessTokenClaims {
    'https://example.com/roles'?: string[]
    'https://example.com/plan'?: 'free' | 'pro'
  }
}

/** Works on the merged type: roles and plan are known, typed claims. */
export function describeCaller (claims: AccessTokenClaims): { user: string, roles: string[], plan: 'free' | 'pro', organization: string | null } {
  return {
    user: claims.sub,
    roles: claims['https://example.com/roles'] ?? [],
    plan: claims['https://example.com/plan'] ?? 'free',
    organization: claims.org_id ?? null
  }
}

export async function buildCustomClaims (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(auth0Plugin, options)

  app.get('/api/me', { preHandler: app.requireAuth() }, async (request) => describeCaller(request.claims))

  app.get('/api/pro-feature', { preHandler: app.requireAuth() }, async (request, reply) => {
    // Typed: comparing with a value outside 'free' | 'pro' would not compile.
    if (request.claims['https://example.com/plan'] !== 'pro') return await reply.code(403).send({ error: 'upgrade_required' })
    return { feature: 'enabled' }
  })

  // @ts-expect-error the roles claim is a list of strings: the compiler refuses a number[].
  const wrong: (claims: AccessTokenClaims) => number[] | undefined = (claims) => claims['https://example.com/roles']
  void wrong
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => ({
    app: await buildCustomClaims(local?.options),
    tries: local === undefined ? [] : [
      { status: 200, what: 'the caller, from typed custom claims', path: '/api/me', token: await local.issuer.token({ 'https://example.com/roles': ['editor'], org_id: 'org_123' }) },
      { status: 403, what: 'plan free: upgrade_required (the handler decides)', path: '/api/pro-feature', token: await local.issuer.token({ 'https://example.com/plan': 'free' }) },
      { status: 200, what: 'plan pro', path: '/api/pro-feature', token: await local.issuer.token({ 'https://example.com/plan': 'pro' }) }
    ]
  }))
}
