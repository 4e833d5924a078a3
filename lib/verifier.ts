/**
 * The verification pipeline, in the order of SPEC §3: cheap and local before costly and remote.
 *   1. Authorization header      2. scheme / DPoP mode rules      3. compact JWS structure
 *   4. issuer allowed, keys      5. signature (jose's rules)      6. claims
 *   7. DPoP binding               8. route scopes
 * DPoP is split across the order: with the DPoP scheme, step 2 also builds the request URL
 * (Host / proxy headers) and runs every local proof check (lib/dpop/checks.ts `precheck`); step 7
 * checks the binding, the proof signature and, last, the replay store (`complete`).
 * Every failure leaves as an `AuthError` whose headers are filled for the route's DPoP mode:
 * returned by `run` (the hook's path: no throw, no promise unless a step waits), thrown by
 * `authenticate`.
 */
import type { ResolvedConfig } from './config/options.js'
import { observe, observing, publicAuthError, type Verdict } from './diagnostics/channels.js'
import { AuthError, type ChallengeScheme, InsufficientScopeError, InternalAuthError, InvalidRequestError, InvalidTokenError, MissingCredentialsError } from './errors.js'
import { readCredentials } from './http/authorization.js'
import type { Challenges, DpopMode } from './http/challenge.js'
import { DpopChecks, type DpopOutcome, type PendingProof } from './dpop/checks.js'
import { TokenVerifier } from './jwt/token-verifier.js'
import type { KeySource } from './keys/key-source.js'
import type { IssuerPolicy } from './keys/issuer-policy.js'
import { satisfies, type RouteRequirements } from './scopes.js'
import type { AuthRequest } from './http/auth-request.js'
import type { AccessTokenClaims, VerifyResult } from './types.js'
import { isPromise, then, type MaybePromise } from './util/maybe-async.js'

/**
 * `run`'s answer for a required route whose request carries no credentials at all: the commonest
 * refusal (unauthenticated traffic, probes), fixed for a route, so the hook replies with what
 * `missingCredentials(route)` gave it once, and no error is built per request.
 */
export const NO_CREDENTIALS: unique symbol = Symbol('fastify-auth0-api: no credentials')

export type RunOutcome = VerifyResult | AuthError | typeof NO_CREDENTIALS | undefined

export class Verifier {
  readonly #config: ResolvedConfig
  readonly #challenges: Challenges
  readonly #tokens: TokenVerifier
  readonly #dpop: DpopChecks

  constructor (config: ResolvedConfig, challenges: Challenges, registry: KeySource, policy: IssuerPolicy) {
    this.#config = config
    this.#challenges = challenges
    this.#tokens = new TokenVerifier(config, registry, policy)
    this.#dpop = new DpopChecks(config)
  }

  /** Verifies a request for a route; `undefined` for an anonymous request on an optional route. */
  async authenticate (request: AuthRequest, route: RouteRequirements): Promise<VerifyResult | undefined> {
    const outcome = await this.run(request, route)
    if (outcome === NO_CREDENTIALS) throw this.missingCredentials(route)
    if (outcome instanceof AuthError) throw outcome
    return outcome
  }

  /** The refusal of a request without credentials on `route`, headers filled. */
  missingCredentials (route: RouteRequirements): AuthError {
    return this.#challenges.apply(new MissingCredentialsError(), route.dpop ?? this.#config.dpop.mode)
  }

  /**
   * `authenticate` for the `requireAuth` hook: a refusal is returned (its `AuthError`, headers
   * filled), never thrown, and no promise is made when none is needed: every step decides
   * synchronously in the usual case (keys cached, static issuers), and a `throw` measured 2–3 µs
   * inside a server, more than the rest of a refusal.
   */
  run (request: AuthRequest, route: RouteRequirements): MaybePromise<RunOutcome> {
    // Diagnostics channels (lib/diagnostics/channels.ts): nothing is made unless someone listens.
    if (observing()) return observe(request, () => this.#outcome(request, route), (outcome) => this.#verdict(outcome, request, route))
    return this.#outcome(request, route)
  }

  #outcome (request: AuthRequest, route: RouteRequirements): MaybePromise<RunOutcome> {
    const mode: DpopMode = route.dpop ?? this.#config.dpop.mode
    let outcome: MaybePromise<RunOutcome>
    try {
      outcome = this.#run(request, route, mode)
    } catch (err) {
      return this.#refusal(err, mode)
    }
    if (isPromise(outcome)) {
      return outcome.then((value) => value instanceof AuthError ? this.#refusal(value, mode) : value, (err: unknown) => this.#refusal(err, mode))
    }
    return outcome instanceof AuthError ? this.#refusal(outcome, mode) : outcome
  }

  /** What the diagnostics channels publish of an outcome: no token, no claim but `iss`. */
  #verdict (outcome: RunOutcome, request: AuthRequest, route: RouteRequirements): Verdict {
    if (outcome === undefined) return { outcome: 'accepted', cached: false }
    const refusal = outcome === NO_CREDENTIALS ? this.missingCredentials(route) : outcome instanceof AuthError ? outcome : undefined
    if (refusal === undefined) {
      const { auth, claims } = outcome as VerifyResult
      return { outcome: 'accepted', scheme: auth.scheme, issuer: claims.iss, cached: request.tokenCacheHit === true }
    }
    // A refusal after a cache hit (a missing scope) is `cached` too: the cache answered for the token.
    const cached = outcome !== NO_CREDENTIALS && request.tokenCacheHit === true
    const verdict: Verdict = { outcome: refusal.statusCode >= 500 ? 'error' : 'refused', reason: refusal.reason, statusCode: refusal.statusCode, cached, error: publicAuthError(refusal) }
    if (refusal.scheme !== undefined) verdict.scheme = refusal.scheme
    return verdict
  }

  #refusal (err: unknown, mode: DpopMode): AuthError {
    const authError = err instanceof AuthError ? err : new InternalAuthError('unexpected', { cause: err })
    return this.#challenges.apply(authError, mode)
  }

  #run (request: AuthRequest, route: RouteRequirements, mode: DpopMode): MaybePromise<RunOutcome> {
    // 1. Authorization header
    const credentials = readCredentials(request.headers.authorization, request.authorizationCount, this.#config.maxTokenLength)
    if (credentials === undefined) return route.optional ? undefined : NO_CREDENTIALS
    const { scheme, token } = credentials

    // 2. Scheme and DPoP mode rules
    if (scheme === 'dpop' && mode === 'disabled') {
      return new InvalidRequestError('dpop_disabled', 'DPoP authorization scheme not accepted', { scheme: 'bearer' })
    }
    if (scheme === 'bearer' && mode === 'required') {
      return new InvalidRequestError('dpop_required', 'DPoP authorization scheme required', { scheme: 'dpop' })
    }
    if (scheme === 'bearer' && request.headers.dpop !== undefined) {
      return new InvalidRequestError('dpop_proof_with_bearer', 'DPoP proof sent with the Bearer scheme', { scheme })
    }
    // Request URL and the local proof checks, before the token costs a decode or a fetch.
    const pending: PendingProof | undefined = scheme === 'dpop' ? this.#dpop.precheck(request, token) : undefined

    // 3–6. Token structure, issuer allowed, keys, signature, claims (lib/jwt/token-verifier.ts)
    return then(this.#tokens.verify(token, request, scheme), (claims) => {
      if (claims instanceof AuthError) return claims
      // 7. DPoP: binding, proof signature, replay (asynchronous: the replay store).
      if (pending !== undefined) return this.#dpop.complete(pending, claims).then((dpop) => this.#authorize(claims, route, scheme, token, dpop))
      // A token bound to a key is never a bearer token, whatever the mode ('disabled' included).
      if (claims.cnf?.jkt !== undefined) {
        return new InvalidTokenError('bound_token_as_bearer', 'DPoP-bound token presented with the Bearer scheme', { scheme })
      }
      return this.#authorize(claims, route, scheme, token, undefined)
    })
  }

  /** 8. Route scopes, then the result. */
  #authorize (claims: AccessTokenClaims, route: RouteRequirements, scheme: ChallengeScheme, token: string, dpop: DpopOutcome | undefined): VerifyResult | AuthError {
    if (!satisfies(claims, route)) return new InsufficientScopeError(route.scopes, 'insufficient scope', scheme)
    if (dpop === undefined) return { claims, auth: { scheme, token } }
    return { claims, auth: { scheme, token, jkt: dpop.jkt }, ...(dpop.nonce !== undefined ? { dpopNonce: dpop.nonce } : {}) }
  }
}
