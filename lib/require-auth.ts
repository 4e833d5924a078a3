/**
 * `fastify.requireAuth(spec)`: a hook (preHandler or onRequest) that authenticates the request,
 * sets `request.claims` and `request.auth`, or replies with the error.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { AuthError } from './errors.js'
import type { Diagnostics } from './diagnostics/index.js'
import { fastifyRequestUrl } from './dpop/htu.js'
import { headerCount } from './http/header-count.js'
import { sendAuthError } from './http/reply.js'
import { routeRequirements } from './scopes.js'
import type { RequireAuthOptions } from './types.js'
import type { AuthRequest, Verifier } from './verifier.js'

export { headerCount }

export function toAuthRequest (request: FastifyRequest): AuthRequest {
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    authorizationCount: request.headers.authorization === undefined ? 0 : headerCount(request.raw.rawHeaders, 'authorization'),
    dpopCount: request.headers.dpop === undefined ? 0 : headerCount(request.raw.rawHeaders, 'dpop'),
    targetUrl: (publicBaseURL) => fastifyRequestUrl(request, publicBaseURL)
  }
}

export type RequireAuth = (spec?: string | string[] | RequireAuthOptions) => preHandlerAsyncHookHandler

export function createRequireAuth (verifier: Verifier, diagnostics?: Diagnostics): RequireAuth {
  return function requireAuth (spec) {
    const route = routeRequirements(spec)
    return async function auth0RequireAuth (request: FastifyRequest, reply: FastifyReply) {
      try {
        const result = await verifier.authenticate(toAuthRequest(request), route)
        if (result !== undefined) {
          request.claims = result.claims
          request.auth = result.auth
          if (result.dpopNonce !== undefined) reply.header('dpop-nonce', result.dpopNonce)
        }
      } catch (err) {
        // authenticate() only throws AuthError; anything else is a bug we still answer safely.
        return await sendAuthError(request, reply, err as AuthError, diagnostics)
      }
    }
  }
}
