/**
 * Step-up authentication (RFC 9470): a route may require a login of a given authentication
 * context class (`acr`) and/or a recent one (`maxAge` seconds since `auth_time`). A token that
 * falls short gets 401 `insufficient_user_authentication` whose challenge carries `acr_values`
 * and/or `max_age` (RFC 9470 §3), so the client can ask the authorization server for that login.
 *
 * Auth0 cannot put `acr` or `auth_time` in access tokens (restricted claims): a post-login Action
 * writes namespaced claims, and the plugin option `stepUp: { acrClaim, authTimeClaim }` names them.
 * A missing `acr` never satisfies an `acr` requirement; a missing `auth_time` never satisfies
 * `maxAge`; `acr` values are compared as exact strings, never ordered.
 */
import { InsufficientUserAuthenticationError, type ChallengeScheme } from '../errors.js'
import type { AccessTokenClaims } from '../types.js'
import { list } from './text.js'

export interface ResolvedStepUp {
  acrClaim: string
  authTimeClaim: string
}

/** A route's step-up requirement, compiled when the route is declared. */
export interface StepUpRequirement {
  /** Accepted `acr` values; `undefined`: any. */
  acr: ReadonlySet<string> | undefined
  /** `acr_values` of the challenge: the route's list, space-separated, in the order given. */
  acrValues: string | undefined
  maxAge: number | undefined
}

/** A claim name, an acr value: sent in challenges and descriptions, so kept to their grammar. */
const TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

export function resolveStepUp (option: unknown, fail: (message: string) => never): ResolvedStepUp {
  if (option === undefined) return { acrClaim: 'acr', authTimeClaim: 'auth_time' }
  // A plain object: its type was checked with every top-level option's (lib/config/options.ts).
  const spec = option as Record<string, unknown>
  for (const key of Object.keys(spec)) {
    if (key !== 'acrClaim' && key !== 'authTimeClaim') fail(`stepUp: unknown option "${key}" (known: acrClaim, authTimeClaim)`)
  }
  const claim = (value: unknown, name: string, def: string): string => {
    if (value === undefined) return def
    if (typeof value !== 'string' || !TOKEN.test(value)) fail(`stepUp.${name} must be a claim name (printable ASCII, no space, quote or backslash)`)
    return value
  }
  return { acrClaim: claim(spec.acrClaim, 'acrClaim', 'acr'), authTimeClaim: claim(spec.authTimeClaim, 'authTimeClaim', 'auth_time') }
}

/** Compiles a route's `acr` / `maxAge`; `undefined` when it has neither. */
export function compileStepUp (acr: unknown, maxAge: unknown, fail: (message: string) => never): StepUpRequirement | undefined {
  if (acr === undefined && maxAge === undefined) return undefined
  let values: string[] | undefined
  if (acr !== undefined) {
    values = typeof acr === 'string' ? [acr] : acr as string[]
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string' || !TOKEN.test(v))) {
      fail('acr must be an acr value or a non-empty list of them (printable ASCII, no space, quote or backslash)')
    }
    values = [...new Set(values)]
  }
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0 || maxAge > 31_536_000)) {
    fail('maxAge must be an integer number of seconds from 0 to 31536000')
  }
  return { acr: values === undefined ? undefined : new Set(values), acrValues: values?.join(' '), maxAge: maxAge as number | undefined }
}

/** The refusal of a token whose login falls short of `requirement`, or `undefined`. */
export function checkStepUp (claims: AccessTokenClaims, requirement: StepUpRequirement, stepUp: ResolvedStepUp, clockTolerance: number, scheme: ChallengeScheme): InsufficientUserAuthenticationError | undefined {
  const refuse = (reason: string, description: string): InsufficientUserAuthenticationError =>
    new InsufficientUserAuthenticationError(reason, description, scheme, requirement.acrValues, requirement.maxAge)
  if (requirement.acr !== undefined) {
    const acr = claims[stepUp.acrClaim]
    const wanted = list([...requirement.acr])
    if (typeof acr !== 'string' || acr === '') return refuse('acr_missing', `token does not state how the user logged in (${stepUp.acrClaim}); this route needs a login with acr ${wanted}`)
    if (!requirement.acr.has(acr)) return refuse('acr_not_allowed', `a stronger login is required: acr ${wanted}`)
  }
  if (requirement.maxAge !== undefined) {
    const authTime = claims[stepUp.authTimeClaim]
    if (typeof authTime !== 'number' || !Number.isFinite(authTime)) {
      return refuse('auth_time_missing', `token does not state when the user logged in (${stepUp.authTimeClaim}); this route needs a login within ${requirement.maxAge} seconds`)
    }
    if (Date.now() / 1000 - authTime > requirement.maxAge + clockTolerance) {
      return refuse('max_age_exceeded', `a more recent login is required: within ${requirement.maxAge} seconds`)
    }
  }
  return undefined
}

