/**
 * The Fastify plugin: loads and validates configuration, builds one verifier (and one key cache
 * per issuer) for the whole application, and decorates the instance and requests.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { loadEnv } from './config/env.js'
import { checkPluginOptions, resolveConfig, type ResolvedIssuer } from './config/options.js'
import { Challenges } from './http/challenge.js'
import { createAuthErrorHandler, type AuthErrorHandler } from './http/reply.js'
import { IssuerPolicy } from './keys/issuer-policy.js'
import { IssuerRegistry } from './keys/issuer-registry.js'
import { keyEvents } from './keys/key-events.js'
import { instanceTrustsProxies } from './mtls/client-certificate.js'
import { SecretKeys } from './keys/secret-keys.js'
import { resolveIntegrations } from './integrations.js'
import { createRequireAuth, type RequireAuth } from './require-auth.js'
import { routeRequirements } from './scopes.js'
import type { TokenExchange } from './token-exchange/types.js'
import type { AccessTokenClaims, Auth0PluginOptions, AuthInfo, RequireAuthOptions, VerifyRequest } from './types.js'
import { Verifier } from './verifier.js'

/** `fastify.auth0`: verification outside a route (e.g. a WebSocket upgrade), and token exchange. */
export interface Auth0Api extends TokenExchange {
  /** Resolves the verified claims, or throws an `AuthError` (with `headers` ready for a reply). */
  verify<R extends VerifyRequest> (request: R, requirements?: string | string[] | RequireAuthOptions<R>): Promise<AccessTokenClaims>
  /**
   * A Fastify error handler (`app.setErrorHandler(app.auth0.errorHandler)`, a route's
   * `errorHandler`, or called from your own): an `AuthError` gets the plugin's reply (status,
   * `WWW-Authenticate` and other headers, `{"detail":…}` body, `onAuthError` / `errorResponse`);
   * any other error goes on, untouched, to the parent error handler.
   */
  errorHandler: AuthErrorHandler
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

const plugin: FastifyPluginAsync<Auth0PluginOptions> = async (fastify, options) => {
  // Before anything reads them: a misspelt or mistyped option is a start-up error, not a silent default.
  checkPluginOptions(options)
  let env
  try {
    env = await loadEnv(fastify, options.env ?? process.env)
  } catch (err) {
    throw new Error(`fastify-auth0-api: invalid environment: ${(err as Error).message}`, { cause: err })
  }
  const config = resolveConfig(options, env)
  // A certificate header is read only from a peer `trustProxy` trusts: without it, never.
  if (config.mtls?.header !== undefined && instanceTrustsProxies(fastify) === false) {
    throw new Error('fastify-auth0-api: mtls.header needs Fastify\'s trustProxy option (the address of the TLS-terminating proxy): without it the header would never be read')
  }
  const integrations = await resolveIntegrations(options, env, config)
  const challenges = new Challenges({ realm: config.realm, dpopAlgorithms: config.dpop.algorithms, resourceMetadata: integrations.resourceMetadataUrl })
  // With a secret, the only keys are the secret's (HMAC-only verifier): no discovery, no JWKS.
  const keys = config.secret !== undefined
    ? await SecretKeys.create(config.secret, (config.issuers[0] as ResolvedIssuer).issuer, config.algorithms)
    : new IssuerRegistry(config, keyEvents(fastify.log, config.onKeySetEvent))
  const verifier = new Verifier(config, challenges, keys, new IssuerPolicy(config))

  fastify.decorateRequest('claims', undefined as unknown as AccessTokenClaims)
  fastify.decorateRequest('auth', undefined)
  fastify.decorate('requireAuth', integrations.tagged(createRequireAuth(verifier, integrations.diagnostics)))
  fastify.decorate('auth0', {
    async verify<R extends VerifyRequest> (request: R, requirements?: string | string[] | RequireAuthOptions<R>) {
      const result = await verifier.authenticate({
        method: request.method,
        url: request.url,
        headers: request.headers,
        authorizationCount: Array.isArray(request.headers.authorization) ? request.headers.authorization.length : 1,
        ...(request.body !== undefined ? { body: request.body } : {}),
        ...(request.clientCertificate !== undefined ? { clientCertificate: request.clientCertificate } : {}),
        subject: request
      }, { ...routeRequirements(requirements), optional: false })
      return (result as NonNullable<typeof result>).claims
    },
    errorHandler: createAuthErrorHandler(integrations.diagnostics),
    ...integrations.tokenExchange
  } satisfies Auth0Api)
  integrations.install(fastify)
}

export const auth0Plugin = fp(plugin, { name: 'fastify-auth0-api', fastify: '5.x' })
