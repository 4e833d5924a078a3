/**
 * The verification pipeline, in the order of SPEC §3: cheap and local before costly and remote.
 *   1. Authorization header      2. scheme / DPoP mode rules      3. compact JWS structure
 *   4. issuer allowed, keys      5. signature (jose's rules)      6. claims
 *   7. DPoP binding, organization  8. route policies: step-up, scopes, claim check
 * DPoP is split across the order: with the DPoP scheme, step 2 also builds the request URL
 * (Host / proxy headers) and runs every local proof check (lib/dpop/checks.ts `precheck`); step 7
 * checks the binding, the proof signature and, last, the replay store (`complete`).
 * Every failure leaves as an `AuthError` whose headers are filled for the route's DPoP mode:
 * returned by `run` (the hook's path: no throw, no promise unless a step waits), thrown by
 * `authenticate`.
 */
import type { ResolvedConfig } from './config/options.js'
import { observe, observing, publicAuthError, type Verdict } from './diagnostics/channels.js'
import { AuthError, type ChallengeScheme, InternalAuthError, InvalidRequestError, InvalidTokenError, MissingCredentialsError, UnsupportedSchemeError } from './errors.js'
import { FOREIGN_SCHEME, readCredentials } from './http/authorization.js'
import { readSourcedCredentials, type TokenSourceName } from './http/token-sources.js'
import { CertificateBinding } from './mtls/binding.js'
import type { Challenges, DpopMode } from './http/challenge.js'
import { DpopChecks, type PendingProof } from './dpop/checks.js'
import { TokenVerifier } from './jwt/token-verifier.js'
import type { KeySource } from './keys/key-source.js'
import type { IssuerPolicy } from './keys/issuer-policy.js'
import { checkTokenAge, clientIdOf } from './policies/profile.js'
import { checkStepUp } from './policies/step-up.js'
import { satisfies, scopeRefusal, type RouteRequirements } from './scopes.js'
import type { AuthRequest } from './http/auth-request.js'
import type { AccessTokenClaims, AuthInfo, VerifyResult } from './types.js'
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
  readonly #certificates: CertificateBinding

  constructor (config: ResolvedConfig, challenges: Challenges, registry: KeySource, policy: IssuerPolicy) {
    this.#config = config
    this.#challenges = challenges
    this.#tokens = new TokenVerifier(config, registry, policy)
    this.#dpop = new DpopChecks(config)
    this.#certificates = new CertificateBinding(config.mtls)
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
    // 1. Authorization header (or the route's other token sources: lib/http/token-sources.ts)
    const sources = route.sources ?? this.#config.tokenSources
    const credentials = sources === undefined || sources.headerOnly
      ? readCredentials(request.headers.authorization, request.authorizationCount, this.#config.maxTokenLength)
      : readSourcedCredentials(request, sources, this.#config.maxTokenLength)
    if (credentials === undefined) return route.optional ? undefined : NO_CREDENTIALS
    // Another scheme (`Basic …`) is answered like no credentials (RFC 6750 §3): an optional route
    // serves the request anonymously, a required one sends the bare challenge.
    if (credentials === FOREIGN_SCHEME) return route.optional ? undefined : new UnsupportedSchemeError()
    const { scheme, token } = credentials
    const source = (credentials as { source?: TokenSourceName }).source

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
      // 6. The token's age: time-dependent, so judged on every request (cache hits included).
      const { maxTokenAge } = this.#config.profile
      if (maxTokenAge !== undefined) {
        const tooOld = checkTokenAge(claims, maxTokenAge, this.#config.clockTolerance, scheme)
        if (tooOld !== undefined) return tooOld
      }
      // 7a. Certificate binding (RFC 8705, lib/mtls/): on every request, the binding is per connection.
      const x5t = claims.cnf?.['x5t#S256']
      if (x5t !== undefined) {
        return then(this.#certificates.check(x5t, request, scheme), (thumbprint) =>
          thumbprint instanceof AuthError ? thumbprint : this.#bind(claims, route, request, scheme, token, pending, source, thumbprint))
      }
      return this.#bind(claims, route, request, scheme, token, pending, source, undefined)
    })
  }

  /** 7b. DPoP: binding, proof signature, replay (a promise only when the store or a key import waits). */
  #bind (claims: AccessTokenClaims, route: RouteRequirements, request: AuthRequest, scheme: ChallengeScheme, token: string, pending: PendingProof | undefined, source: TokenSourceName | undefined, x5t: string | undefined): MaybePromise<VerifyResult | AuthError> {
    if (pending !== undefined) return then(this.#dpop.complete(pending, claims), (dpop) => this.#authorize(claims, route, request, authInfo(scheme, token, dpop.jkt, source, x5t), dpop.nonce))
    // A token bound to a key is never a bearer token, whatever the mode ('disabled' included).
    if (claims.cnf?.jkt !== undefined) {
      return new InvalidTokenError('bound_token_as_bearer', 'DPoP-bound token presented with the Bearer scheme', { scheme })
    }
    return this.#authorize(claims, route, request, authInfo(scheme, token, undefined, source, x5t), undefined)
  }

  /**
   * 7c. Organization, once the sender is proven (a policy function may be costly): the
   * plugin's policy unless the route turns it off, then the route's. Nothing runs when neither is set.
   */
  #authorize (claims: AccessTokenClaims, route: RouteRequirements, request: AuthRequest, auth: AuthInfo, nonce: string | undefined): MaybePromise<VerifyResult | AuthError> {
    const plugin = route.organization === false ? undefined : this.#config.organization
    const own = route.organization === false ? undefined : route.organization
    if (plugin === undefined && own === undefined) return this.#routePolicies(claims, route, request, auth, nonce)
    const { subject } = request
    const routeThen = (): MaybePromise<VerifyResult | AuthError> => own === undefined
      ? this.#routePolicies(claims, route, request, auth, nonce)
      : then(own(claims, subject, auth.scheme), (refused) => refused ?? this.#routePolicies(claims, route, request, auth, nonce))
    return plugin === undefined ? routeThen() : then(plugin(claims, subject, auth.scheme), (refused) => refused ?? routeThen())
  }

  /**
   * 8. The route's policies. A login that falls short (RFC 9470, 401) wins over missing scopes
   * (403): the client must log in again anyway, and the challenge then also names the scopes, so
   * one new authorization request can fix both. The claim check runs last (it may be costly).
   */
  #routePolicies (claims: AccessTokenClaims, route: RouteRequirements, request: AuthRequest, auth: AuthInfo, nonce: string | undefined): MaybePromise<VerifyResult | AuthError> {
    const { scheme } = auth
    if (route.stepUp !== undefined) {
      const stepUp = checkStepUp(claims, route.stepUp, this.#config.stepUp, this.#config.clockTolerance, scheme)
      if (stepUp !== undefined) {
        if (!satisfies(claims, route)) stepUp.requiredScopes = route.refusal.challengeScopes
        return stepUp
      }
    }
    if (!satisfies(claims, route)) return scopeRefusal(claims, route, scheme)
    if (route.check !== undefined) {
      return then(route.check(claims, request.subject, scheme), (refused) => refused ?? result(claims, auth, nonce))
    }
    return result(claims, auth, nonce)
  }
}

/** How the request authenticated; optional members only when used, so the usual request keeps the usual object shape. */
function authInfo (scheme: ChallengeScheme, token: string, jkt: string | undefined, source: TokenSourceName | undefined, x5t: string | undefined): AuthInfo {
  const auth: AuthInfo = jkt === undefined ? { scheme, token } : { scheme, token, jkt }
  if (source !== undefined && source !== 'header') auth.source = source
  if (x5t !== undefined) auth.x5t = x5t
  return auth
}

/** The accepted request: claims, and how it authenticated. */
function result (claims: AccessTokenClaims, auth: AuthInfo, nonce: string | undefined): VerifyResult {
  const clientId = clientIdOf(claims)
  if (clientId !== undefined) auth.clientId = clientId
  if (nonce === undefined) return { claims, auth }
  return { claims, auth, dpopNonce: nonce }
}
