/**
 * Token profile and explicit typing (SPEC §8, RFC 9068, RFC 8725 §3.11), compiled once from the
 * plugin options:
 * - `typ`: in every profile a `typ` naming another kind of JWT (`dpop+jwt`, `logout+jwt`,
 *   `secevent+jwt` … any `…+jwt` but `at+jwt`, compared case-insensitively, `application/`
 *   optional) is refused: a DPoP proof or a logout token signed by the issuer's key is not an
 *   access token. `'rfc9068'` also requires `at+jwt` and the `client_id` and `jti` claims.
 * - `requiredClaims`: more claims that must be present (and not null).
 * - `maxTokenAge`: `now − iat ≤ maxTokenAge` (+ clockTolerance), judged on every request.
 * The header and claim checks run in the full verification only (a cached token passed them under
 * the same, fixed configuration); the age check runs on every request, cache hits included.
 */
import { InvalidTokenError, type AuthError, type ChallengeScheme } from '../errors.js'
import type { AccessTokenClaims } from '../types.js'
import type { TokenProfile } from './options.js'
import { describable } from './text.js'

export interface ProfileOptions {
  profile?: TokenProfile
  maxTokenAge?: number
  requiredClaims?: string[]
}

export interface ResolvedProfile {
  rfc9068: boolean
  /** Seconds, or `undefined` when tokens may be of any age. */
  maxTokenAge: number | undefined
  /** Claims that must be present, beyond those the profile requires. Empty: none. */
  requiredClaims: readonly string[]
}

function fail (message: string): never {
  throw new Error(`fastify-auth0-api: ${message}`)
}

export function resolveProfile (options: ProfileOptions): ResolvedProfile {
  const profile = options.profile ?? 'any'
  if (profile !== 'any' && profile !== 'rfc9068') fail('profile must be "any" or "rfc9068"')
  const maxTokenAge = options.maxTokenAge
  if (maxTokenAge !== undefined && (typeof maxTokenAge !== 'number' || !Number.isInteger(maxTokenAge) || maxTokenAge < 1 || maxTokenAge > 31_536_000)) {
    fail('maxTokenAge must be an integer number of seconds from 1 to 31536000')
  }
  const required = options.requiredClaims ?? []
  if (!Array.isArray(required) || required.some((c) => typeof c !== 'string' || c === '' || !describable(c))) {
    fail('requiredClaims must be an array of claim names (printable ASCII, no quote or backslash)')
  }
  return { rfc9068: profile === 'rfc9068', maxTokenAge, requiredClaims: [...new Set(required as string[])] }
}

const NOT_ACCESS_TOKEN = 'token typ names another kind of JWT, not an access token'
const NOT_AT_JWT = 'token typ is not at+jwt: this API requires RFC 9068 access tokens (an Auth0 API on the Auth0 token profile issues typ JWT: switch it to the RFC 9068 profile)'

/**
 * The refusal of a header `typ`, or `undefined` when it is acceptable. `typ` is the decoded,
 * unverified header member (the check is as cheap as the allowlist of `alg`).
 */
export function checkTyp (typ: unknown, profile: ResolvedProfile, scheme: ChallengeScheme): AuthError | undefined {
  // The usual spellings first: Auth0's profile (`JWT`, none) and RFC 9068's.
  if (typ === 'at+jwt') return undefined
  if (!profile.rfc9068 && (typ === undefined || typ === 'JWT')) return undefined
  if (typ !== undefined && typeof typ !== 'string') return new InvalidTokenError('malformed', 'access token typ header is not a string', { scheme })
  const type = typ === undefined ? '' : typ.toLowerCase().replace(/^application\//, '')
  if (type === 'at+jwt') return undefined
  if (type.endsWith('+jwt')) return new InvalidTokenError('typ_not_access_token', NOT_ACCESS_TOKEN, { scheme })
  if (profile.rfc9068) return new InvalidTokenError('typ_not_at_jwt', NOT_AT_JWT, { scheme })
  return undefined
}

function nonEmptyString (value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== ''
}

/** The claims the profile and `requiredClaims` demand, on a payload that passed the signature. */
export function checkProfileClaims (payload: Record<string, unknown>, profile: ResolvedProfile, scheme: ChallengeScheme): AuthError | undefined {
  if (profile.rfc9068) {
    if (!nonEmptyString(payload.client_id)) return new InvalidTokenError('profile_claim_missing', 'RFC 9068 profile: client_id claim missing or not a string', { scheme })
    if (!nonEmptyString(payload.jti)) return new InvalidTokenError('profile_claim_missing', 'RFC 9068 profile: jti claim missing or not a string', { scheme })
  }
  for (const claim of profile.requiredClaims) {
    if (!Object.hasOwn(payload, claim) || payload[claim] === null) return new InvalidTokenError('claim_missing', `missing required ${claim} claim`, { scheme })
  }
  return undefined
}

/** `maxTokenAge`, judged now: `iat` is a number (the full verification required it). */
export function checkTokenAge (claims: AccessTokenClaims, maxTokenAge: number, clockTolerance: number, scheme: ChallengeScheme): AuthError | undefined {
  if (Date.now() / 1000 - claims.iat <= maxTokenAge + clockTolerance) return undefined
  return new InvalidTokenError('token_too_old', `token too old: issued more than ${maxTokenAge} seconds ago`, { scheme })
}

/** `request.auth.clientId`: RFC 9068's `client_id`, else Auth0's `azp`. */
export function clientIdOf (claims: AccessTokenClaims): string | undefined {
  const { client_id: clientId, azp } = claims
  if (typeof clientId === 'string') return clientId
  return typeof azp === 'string' ? azp : undefined
}
