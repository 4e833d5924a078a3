/**
 * The verification pipeline, in the order of SPEC §3: cheap and local before costly and remote.
 *   1. Authorization header      2. scheme / DPoP mode rules      3. compact JWS structure
 *   4. issuer allowed, keys      5. signature (jose)              6. claims
 *   7. DPoP binding               8. route scopes
 * DPoP is split across the order: with the DPoP scheme, step 2 also builds the request URL
 * (Host / proxy headers) and runs every local proof check (lib/dpop/checks.ts `precheck`); step 7
 * checks the binding, the proof signature and, last, the replay store (`complete`).
 * Every failure leaves as an `AuthError` whose headers are filled for the route's DPoP mode.
 */
import { errors as joseErrors, type JWSHeaderParameters } from 'jose'
import type { ResolvedConfig } from './config/options.js'
import { AuthError, InsufficientScopeError, InternalAuthError, InvalidRequestError, InvalidTokenError, MissingCredentialsError } from './errors.js'
import { readCredentials } from './http/authorization.js'
import type { Challenges, DpopMode } from './http/challenge.js'
import { DpopChecks, type DpopOutcome, type PendingProof } from './dpop/checks.js'
import { decodeCompactJws } from './jwt/compact.js'
import { verifyClaims } from './jwt/claims.js'
import type { IssuerRegistry } from './keys/issuer-registry.js'
import type { IssuerPolicy } from './keys/issuer-policy.js'
import { satisfies, type RouteRequirements } from './scopes.js'
import type { AccessTokenClaims, VerifyRequest, VerifyResult } from './types.js'

/** A request as the pipeline sees it. */
export interface AuthRequest extends VerifyRequest {
  /** Authorization header lines received (Node keeps only the first in `headers`). */
  authorizationCount: number
  /** DPoP header lines received; default: counted from `headers.dpop`. */
  dpopCount?: number
  /**
   * The normalised URL the client targeted (DPoP `htu`); throws an `AuthError` for a bad Host or
   * proxy header. Default: `url` taken as absolute, or as a path under `publicBaseURL`.
   */
  targetUrl?: (publicBaseURL: string | undefined) => string
}

export class Verifier {
  readonly #config: ResolvedConfig
  readonly #challenges: Challenges
  readonly #registry: IssuerRegistry
  readonly #policy: IssuerPolicy
  readonly #dpop: DpopChecks

  constructor (config: ResolvedConfig, challenges: Challenges, registry: IssuerRegistry, policy: IssuerPolicy) {
    this.#config = config
    this.#challenges = challenges
    this.#registry = registry
    this.#policy = policy
    this.#dpop = new DpopChecks(config)
  }

  /** Verifies a request for a route; `undefined` for an anonymous request on an optional route. */
  async authenticate (request: AuthRequest, route: RouteRequirements): Promise<VerifyResult | undefined> {
    const mode: DpopMode = route.dpop ?? this.#config.dpop.mode
    try {
      return await this.#run(request, route, mode)
    } catch (err) {
      const authError = err instanceof AuthError ? err : new InternalAuthError('unexpected', { cause: err })
      throw this.#challenges.apply(authError, mode)
    }
  }

  async #run (request: AuthRequest, route: RouteRequirements, mode: DpopMode): Promise<VerifyResult | undefined> {
    // 1. Authorization header
    const credentials = readCredentials(request.headers.authorization, request.authorizationCount, this.#config.maxTokenLength)
    if (credentials === undefined) {
      if (route.optional) return undefined
      throw new MissingCredentialsError()
    }
    const { scheme, token } = credentials

    // 2. Scheme and DPoP mode rules
    if (scheme === 'dpop' && mode === 'disabled') {
      throw new InvalidRequestError('dpop_disabled', 'DPoP authorization scheme not accepted', { scheme: 'bearer' })
    }
    if (scheme === 'bearer' && mode === 'required') {
      throw new InvalidRequestError('dpop_required', 'DPoP authorization scheme required', { scheme: 'dpop' })
    }
    if (scheme === 'bearer' && request.headers.dpop !== undefined) {
      throw new InvalidRequestError('dpop_proof_with_bearer', 'DPoP proof sent with the Bearer scheme', { scheme })
    }
    // Request URL and the local proof checks, before the token costs a decode or a fetch.
    const pending: PendingProof | undefined = scheme === 'dpop' ? this.#dpop.precheck(request, token) : undefined

    // 3. Token structure
    const { header, payload } = decodeCompactJws(token, scheme)

    // 4. Issuer allowed (no network for any other issuer), algorithm allowed, keys
    const issuer = await this.#policy.resolve(payload.iss, request, scheme)
    if (!issuer.algorithms.includes(header.alg as string)) {
      throw new InvalidTokenError('alg_not_allowed', 'token algorithm not allowed', { scheme })
    }
    const keys = this.#registry.keysFor(issuer)
    let key
    try {
      key = await keys.getKey(header as unknown as JWSHeaderParameters)
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey) throw new InvalidTokenError('kid_not_found', 'no matching signing key', { scheme, cause: err })
      if (err instanceof joseErrors.JWKSMultipleMatchingKeys) throw new InvalidTokenError('kid_ambiguous', 'signing key ambiguous: the token needs a "kid"', { scheme, cause: err })
      throw err
    }

    // 5–6. Signature and claims
    const claims: AccessTokenClaims = await verifyClaims(token, key, {
      issuer: keys.issuer,
      audience: this.#config.audience,
      algorithms: issuer.algorithms,
      clockTolerance: this.#config.clockTolerance
    }, scheme)

    // 7. DPoP: binding, proof signature, replay. A token bound to a key is never a bearer token,
    // whatever the mode ('disabled' included).
    let dpop: DpopOutcome | undefined
    if (pending !== undefined) {
      dpop = await this.#dpop.complete(pending, claims)
    } else if (claims.cnf?.jkt !== undefined) {
      throw new InvalidTokenError('bound_token_as_bearer', 'DPoP-bound token presented with the Bearer scheme', { scheme })
    }

    // 8. Route scopes
    if (!satisfies(claims, route)) {
      throw new InsufficientScopeError(route.scopes, 'insufficient scope', scheme)
    }
    if (dpop === undefined) return { claims, auth: { scheme, token } }
    return { claims, auth: { scheme, token, jkt: dpop.jkt }, ...(dpop.nonce !== undefined ? { dpopNonce: dpop.nonce } : {}) }
  }
}
