/**
 * Route requirements: which scopes (or other claim values) a token must carry, and the route's
 * policies (organization, step-up, claim check; lib/policies/). Specs are validated and compiled
 * when the route is declared, so a typo fails at start-up instead of leaving a route less
 * protected than intended, and a route that sets no policy runs none.
 */
import { InsufficientScopeError, type ChallengeScheme } from './errors.js'
import type { DpopMode } from './http/challenge.js'
import { resolveTokenSources, type ResolvedTokenSources } from './http/token-sources.js'
import { compileCheck, type CompiledCheck } from './policies/claim-checks.js'
import { compileOrganization, type OrganizationPolicy } from './policies/organization.js'
import { compileStepUp, type StepUpRequirement } from './policies/step-up.js'
import { describable, list } from './policies/text.js'
import type { AccessTokenClaims, RequireAuthOptions } from './types.js'

export interface RouteRequirements {
  scopes: readonly string[]
  match: 'all' | 'any'
  claim: string
  optional: boolean
  /** Overrides the plugin's DPoP mode for this route. */
  dpop: DpopMode | undefined
  /** The route's organization policy (besides the plugin's); `false`: the plugin's is off here. */
  organization: OrganizationPolicy | false | undefined
  /** `acr` / `maxAge` (RFC 9470). */
  stepUp: StepUpRequirement | undefined
  check: CompiledCheck | undefined
  /** What the route's policies require, in words (OpenAPI operation descriptions). */
  notes: readonly string[]
  /** How a scope refusal reads; fixed for the route. */
  refusal: ScopeRefusal
  /** Overrides the plugin's `tokenSources` for this route. */
  sources?: ResolvedTokenSources
}

interface ScopeRefusal {
  /** `scope=` of the challenge: the route's scopes when they are OAuth scopes that must all be held. */
  challengeScopes: readonly string[]
  /** `missing scope x` (all-of, per refusal) or `needs one of the scopes x, y` (any-of). */
  noun: [singular: string, plural: string]
  anyOf: string | undefined
}

const KEYS = new Set(['scopes', 'match', 'claim', 'optional', 'dpop', 'tokenSources', 'organization', 'acr', 'maxAge', 'check'])
/** Claims whose values are OAuth scopes (Auth0 RBAC permissions are the API's scopes too). */
const SCOPE_CLAIMS = new Set(['scope', 'scp', 'permissions'])

function fail (message: string): never {
  throw new TypeError(`fastify-auth0-api: requireAuth: ${message}`)
}

// RFC 6749 §3.3: scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E. A required scope is
// sent in the challenge's `scope=` (RFC 6750 §3), so a route may only require what can be sent.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

function scopeList (value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list)) fail('scopes must be a string or an array of strings')
  for (const scope of list) {
    if (typeof scope !== 'string' || scope === '') fail('scopes must be non-empty strings')
    if (/\s/.test(scope)) fail(`scope "${scope}" contains whitespace: pass each scope as its own array element`)
    if (!SCOPE_TOKEN.test(scope)) fail(`scope ${JSON.stringify(scope)} has a character a scope cannot hold (RFC 6749 §3.3: printable ASCII but " and \\)`)
  }
  return [...new Set(list as string[])]
}

function refusalFor (scopes: readonly string[], match: 'all' | 'any', claim: string): ScopeRefusal {
  const allOf = match === 'all' || scopes.length === 1
  const challengeScopes = SCOPE_CLAIMS.has(claim) && allOf ? scopes : []
  // Required scopes are scope-tokens (SCOPE_TOKEN), all of them describable: each can be named.
  const noun: [string, string] = claim === 'permissions'
    ? ['permission', 'permissions']
    : claim === 'scope' || claim === 'scp' ? ['scope', 'scopes'] : describable(claim) ? [`${claim} value`, `${claim} values`] : ['claim value', 'claim values']
  return { challengeScopes, noun, anyOf: allOf ? undefined : `needs one of the ${noun[1]} ${list(scopes)}` }
}

export function routeRequirements (spec?: string | string[] | RequireAuthOptions<any>): RouteRequirements {
  if (spec === undefined || typeof spec === 'string' || Array.isArray(spec)) {
    const scopes = spec === undefined ? [] : scopeList(spec)
    return { scopes, match: 'all', claim: 'scope', optional: false, dpop: undefined, organization: undefined, stepUp: undefined, check: undefined, notes: [], refusal: refusalFor(scopes, 'all', 'scope') }
  }
  if (typeof spec !== 'object' || spec === null) fail('expected a scope, a list of scopes or an options object')
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) fail(`unknown option "${key}" (known: ${[...KEYS].join(', ')})`)
  }
  if (spec.match !== undefined && spec.match !== 'all' && spec.match !== 'any') fail('match must be "all" or "any"')
  if (spec.claim !== undefined && (typeof spec.claim !== 'string' || spec.claim === '')) fail('claim must be a non-empty claim name')
  if (spec.optional !== undefined && typeof spec.optional !== 'boolean') fail('optional must be a boolean')
  if (spec.dpop !== undefined && spec.dpop !== 'required') fail('dpop must be "required" when set')
  const scopes = spec.scopes === undefined ? [] : scopeList(spec.scopes)
  const match = spec.match ?? 'all'
  const claim = spec.claim ?? 'scope'
  const notes: string[] = []
  const organization = spec.organization === undefined || spec.organization === false
    ? spec.organization
    : compileOrganization(spec.organization, 'organization', fail)
  if (organization !== undefined && organization !== false) notes.push(organizationNote(spec.organization))
  const stepUp = compileStepUp(spec.acr, spec.maxAge, fail)
  if (stepUp?.acrValues !== undefined) notes.push(`Requires a login with acr ${list(stepUp.acrValues.split(' '))} (step-up, RFC 9470).`)
  if (stepUp?.maxAge !== undefined) notes.push(`Requires a login within the last ${stepUp.maxAge} seconds (RFC 9470 max_age).`)
  const check = spec.check === undefined ? undefined : compileCheck(spec.check, fail)
  if (check !== undefined) notes.push('Claim check: a token it refuses gets 403 insufficient_scope.')
  const requirements: RouteRequirements = {
    scopes,
    match,
    claim,
    optional: spec.optional ?? false,
    dpop: spec.dpop,
    organization,
    stepUp,
    check,
    notes,
    refusal: refusalFor(scopes, match, claim)
  }
  if (spec.tokenSources !== undefined) {
    requirements.sources = resolveTokenSources(spec.tokenSources, 'tokenSources', fail)
    // RFC 9449 §7.1: a DPoP token travels in the Authorization header only.
    if (spec.dpop === 'required' && !requirements.sources.headerOnly) fail('tokenSources other than the header cannot be combined with dpop: "required" (DPoP tokens travel only in the Authorization header)')
  }
  return requirements
}

function organizationNote (option: unknown): string {
  // Ids and names are not listed: the document is public, the customers' organizations are not.
  if (option === true) return 'Requires a token of an Auth0 Organization (org_id).'
  return 'Requires a token of an allowed Auth0 Organization (org_id).'
}

/** Values of a scope-like claim: a space-separated string or an array of strings. */
function granted (value: unknown): Set<string> {
  if (typeof value === 'string') return new Set(value.split(/\s+/))
  if (Array.isArray(value)) return new Set(value.filter((v): v is string => typeof v === 'string'))
  return new Set()
}

/** Exact, whole-value matching: `read:message` never satisfies `read:messages`. */
export function satisfies (claims: AccessTokenClaims, route: RouteRequirements): boolean {
  if (route.scopes.length === 0) return true
  const have = granted(claims[route.claim])
  return route.match === 'all' ? route.scopes.every((s) => have.has(s)) : route.scopes.some((s) => have.has(s))
}

/** The 403 of a token that does not satisfy the route's scopes, saying what it lacks. */
export function scopeRefusal (claims: AccessTokenClaims, route: RouteRequirements, scheme: ChallengeScheme): InsufficientScopeError {
  const { refusal } = route
  if (refusal.anyOf !== undefined) return new InsufficientScopeError(refusal.challengeScopes, refusal.anyOf, scheme)
  const have = granted(claims[route.claim])
  const missing = route.scopes.filter((s) => !have.has(s))
  const description = `missing ${missing.length === 1 ? refusal.noun[0] : refusal.noun[1]} ${list(missing)}`
  return new InsufficientScopeError(refusal.challengeScopes, description, scheme)
}
