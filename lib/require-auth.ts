/**
 * `fastify.requireAuth(spec)`: a hook (preHandler or onRequest) that authenticates the request,
 * sets `request.claims` and `request.auth`, or replies with the error.
 *
 * The hook is written in Fastify's callback style so that a request decided synchronously (a
 * cached key or token, any refusal before a fetch) costs no promise and no microtask turn: it
 * calls `done` at once, or replies and stops the chain without `done` (Fastify's "respond from a
 * hook"). When the verification has to wait, it returns the promise instead, which Fastify awaits.
 * Called by hand with two arguments (no `done`), it returns a promise like an async hook.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { AuthError } from './errors.js'
import type { Diagnostics } from './diagnostics/index.js'
import { fastifyRequestUrl } from './dpop/htu.js'
import { headerCount } from './http/header-count.js'
import { sendAuthError } from './http/reply.js'
import { routeRequirements } from './scopes.js'
import type { RequireAuthOptions, VerifyResult } from './types.js'
import { isPromise } from './util/maybe-async.js'
import type { AuthRequest } from './http/auth-request.js'
import { NO_CREDENTIALS, type RunOutcome, type Verifier } from './verifier.js'

export { headerCount }

/** A Fastify request as the pipeline sees it (a class: no closure allocated per request). */
class FastifyAuthRequest implements AuthRequest {
  readonly method: string
  readonly url: string
  readonly headers: FastifyRequest['headers']
  readonly authorizationCount: number
  readonly dpopCount: number
  tokenCacheHit = false
  readonly #request: FastifyRequest

  constructor (request: FastifyRequest) {
    const { headers } = request
    this.method = request.method
    this.url = request.url
    this.headers = headers
    this.authorizationCount = headers.authorization === undefined ? 0 : headerCount(request.raw.rawHeaders, 'authorization')
    this.dpopCount = headers.dpop === undefined ? 0 : headerCount(request.raw.rawHeaders, 'dpop')
    this.#request = request
  }

  targetUrl (publicBaseURL: string | undefined): string {
    return fastifyRequestUrl(this.#request, publicBaseURL)
  }

  /** Read by the diagnostics channels only (Fastify builds `routeOptions` on each read). */
  get route (): string | undefined {
    return this.#request.routeOptions.url
  }
}

/** The hook `requireAuth` returns: usable as `preHandler` or `onRequest`, or awaited by hand. */
export interface RequireAuthHook {
  (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void | Promise<void>
  (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void>
}

export type RequireAuth = (spec?: string | string[] | RequireAuthOptions) => RequireAuthHook

/** Applies the outcome: sets `request.claims` / `request.auth`, or replies with the refusal. */
function settle (request: FastifyRequest, reply: FastifyReply, outcome: VerifyResult | AuthError | undefined, diagnostics: Diagnostics | undefined): FastifyReply | Promise<FastifyReply> | undefined {
  if (outcome instanceof AuthError) return sendAuthError(request, reply, outcome, diagnostics)
  if (outcome === undefined) return undefined
  request.claims = outcome.claims
  request.auth = outcome.auth
  if (outcome.dpopNonce !== undefined) reply.header('dpop-nonce', outcome.dpopNonce)
  return undefined
}

export function createRequireAuth (verifier: Verifier, diagnostics?: Diagnostics): RequireAuth {
  return function requireAuth (spec) {
    const route = routeRequirements(spec)
    // Built once for the route and used for every request without credentials: nothing sees the
    // error object but the reply, unless diagnostics hooks do (they get a fresh one each time).
    const missing = verifier.missingCredentials(route)
    const refuse = (request: FastifyRequest, reply: FastifyReply, outcome: RunOutcome): FastifyReply | Promise<FastifyReply> | undefined => {
      if (outcome !== NO_CREDENTIALS) return settle(request, reply, outcome, diagnostics)
      return sendAuthError(request, reply, diagnostics === undefined ? missing : verifier.missingCredentials(route), diagnostics)
    }
    return function auth0RequireAuth (request: FastifyRequest, reply: FastifyReply, done?: HookHandlerDoneFunction): void | Promise<void> {
      const outcome = verifier.run(new FastifyAuthRequest(request), route)
      if (isPromise(outcome)) return outcome.then(async (value) => { await refuse(request, reply, value) })
      const sent = refuse(request, reply, outcome)
      // A reply waiting for a diagnostics hook: Fastify waits for it too.
      if (isPromise(sent)) return sent.then(() => {})
      if (done === undefined) return Promise.resolve()
      // Replied: the chain stops here, without `done` (Fastify's "respond from a hook").
      if (sent === undefined) done()
    } as RequireAuthHook
  }
}
