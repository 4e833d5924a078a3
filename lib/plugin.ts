/**
 * The Fastify plugin: loads and validates configuration, builds one verifier (and one key cache
 * per issuer) for the whole application, and decorates the instance and requests.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { loadEnv } from './config/env.js'
import { resolveConfig } from './config/options.js'
import { Challenges } from './http/challenge.js'
import { IssuerPolicy } from './keys/issuer-policy.js'
import { IssuerRegistry } from './keys/issuer-registry.js'
import type { KeyEvents } from './keys/issuer-keys.js'
import { createRequireAuth, type RequireAuth } from './require-auth.js'
import { routeRequirements } from './scopes.js'
import type { AccessTokenClaims, Auth0PluginOptions, AuthInfo, KeySetEvent, RequireAuthOptions, VerifyRequest } from './types.js'
import { Verifier } from './verifier.js'

/** `fastify.auth0`: verification outside a route (e.g. a WebSocket upgrade). */
export interface Auth0Api {
  /** Resolves the verified claims, or throws an `AuthError` (with `headers` ready for a reply). */
  verify (request: VerifyRequest, requirements?: string | string[] | RequireAuthOptions): Promise<AccessTokenClaims>
}

declare module 'fastify' {
  interface FastifyInstance {
    requireAuth: RequireAuth
    auth0: Auth0Api
  }
  interface FastifyRequest {
    /** Verified token payload, set by `requireAuth` (undefined on an anonymous optional route). */
    claims: AccessTokenClaims
    /** Scheme and raw token, set by `requireAuth`. */
    auth: AuthInfo | undefined
  }
}

function keyEvents (fastify: FastifyInstance, hook: ((event: KeySetEvent) => void) | undefined): KeyEvents {
  const log = fastify.log
  const emit = (event: KeySetEvent): void => {
    if (hook === undefined) return
    // An operator's hook must never break verification.
    try {
      Promise.resolve(hook(event)).catch((err: unknown) => log.error({ err }, 'fastify-auth0-api: onKeySetEvent failed'))
    } catch (err) {
      log.error({ err }, 'fastify-auth0-api: onKeySetEvent failed')
    }
  }
  return {
    fetched: ({ issuer, url, document }) => {
      log.info({ issuer, url }, `fastify-auth0-api: fetched ${document}`)
      emit({ type: 'fetched', issuer, url, document })
    },
    fetchFailed: ({ issuer, url, document, error }) => {
      log.warn({ issuer, url, document, err: error }, 'fastify-auth0-api: key fetch failed')
      emit({ type: 'fetch_failed', issuer, url, document, error })
    },
    stale: ({ issuer, expiredSeconds }) => {
      log.warn({ issuer, expiredSeconds }, 'fastify-auth0-api: issuer unreachable, serving cached keys past expiry')
      emit({ type: 'stale', issuer, expiredSeconds })
    },
    cacheFailed: ({ operation, key, error }) => {
      log.warn({ operation, key, err: error }, 'fastify-auth0-api: cache adapter failed, using the network and in-process keys')
      emit({ type: 'cache_failed', operation, key, error })
    }
  }
}

const plugin: FastifyPluginAsync<Auth0PluginOptions> = async (fastify, options) => {
  let env
  try {
    env = await loadEnv(fastify, options.env ?? process.env)
  } catch (err) {
    throw new Error(`fastify-auth0-api: invalid environment: ${(err as Error).message}`, { cause: err })
  }
  const config = resolveConfig(options, env)
  const challenges = new Challenges({ realm: config.realm, dpopAlgorithms: config.dpop.algorithms })
  const verifier = new Verifier(config, challenges, new IssuerRegistry(config, keyEvents(fastify, config.onKeySetEvent)), new IssuerPolicy(config))

  fastify.decorateRequest('claims', undefined as unknown as AccessTokenClaims)
  fastify.decorateRequest('auth', undefined)
  fastify.decorate('requireAuth', createRequireAuth(verifier))
  fastify.decorate('auth0', {
    async verify (request: VerifyRequest, requirements?: string | string[] | RequireAuthOptions) {
      const result = await verifier.authenticate({
        method: request.method,
        url: request.url,
        headers: request.headers,
        authorizationCount: Array.isArray(request.headers.authorization) ? request.headers.authorization.length : 1
      }, { ...routeRequirements(requirements), optional: false })
      return (result as NonNullable<typeof result>).claims
    }
  } satisfies Auth0Api)
}

export const auth0Plugin = fp(plugin, { name: 'fastify-auth0-api', fastify: '5.x' })
