/**
 * Everything around verification, wired in one place so the plugin stays short: diagnostics
 * hooks, RFC 9728 metadata, the @fastify/swagger integration and the token-exchange client.
 * All options are checked by `resolveIntegrations`, before the plugin decorates anything.
 */
import type { FastifyInstance } from 'fastify'
import type { Auth0Env } from './config/env.js'
import type { ResolvedConfig } from './config/options.js'
import { resolveDiagnostics, type Diagnostics } from './diagnostics/index.js'
import { resolveResourceMetadata, type ResourceMetadata } from './metadata/resource-metadata.js'
import { resolveOpenApi, type OpenApiIntegration } from './openapi/swagger.js'
import type { RequireAuth } from './require-auth.js'
import { routeProtection, tagHook } from './routes/protected-routes.js'
import { routeRequirements } from './scopes.js'
import { createTokenExchange, resolveClient } from './token-exchange/client.js'
import type { TokenExchange } from './token-exchange/types.js'
import type { Auth0PluginOptions } from './types.js'

export interface Integrations {
  diagnostics: Diagnostics | undefined
  /** Absolute RFC 9728 metadata URL for the challenges, when enabled. */
  resourceMetadataUrl: string | undefined
  tokenExchange: TokenExchange
  /** `requireAuth` whose hooks carry their requirements (for `onRoute`). */
  tagged (requireAuth: RequireAuth): RequireAuth
  /** Adds the hooks and routes. */
  install (fastify: FastifyInstance): void
}

export async function resolveIntegrations (options: Auth0PluginOptions, env: Auth0Env, config: ResolvedConfig): Promise<Integrations> {
  const diagnostics = resolveDiagnostics(options)
  const metadata: ResourceMetadata | undefined = resolveResourceMetadata(options.resourceMetadata, config)
  const openapi: OpenApiIntegration | undefined = resolveOpenApi(options.openapi, config)
  const tokenExchange = createTokenExchange(await resolveClient(options, env, config))

  return {
    diagnostics,
    resourceMetadataUrl: metadata?.url,
    tokenExchange,
    tagged: (requireAuth) => (spec) => tagHook(requireAuth(spec), routeRequirements(spec)),
    install (fastify) {
      fastify.addHook('onRoute', function (route) {
        const requirements = routeProtection(route)
        if (requirements.length === 0) return
        metadata?.addRoute(requirements)
        openapi?.onRoute(this, route, requirements)
      })
      if (openapi !== undefined) fastify.addHook('onReady', async () => { openapi.onReady(fastify) })
      if (metadata !== undefined) {
        let body: string | undefined
        fastify.get(metadata.path.replaceAll(':', '::'), { schema: { hide: true } as Record<string, unknown> }, async (_request, reply) => {
          // Built on the first request, when every route (and so every scope) is known.
          body ??= JSON.stringify(metadata.document())
          return await reply.header('cache-control', 'public, max-age=3600').type('application/json; charset=utf-8').send(body)
        })
      }
    }
  }
}
