/**
 * Route requirements: which scopes (or other claim values) a token must carry. Specs are
 * validated when the route is declared, so a typo fails at start-up instead of leaving a route
 * less protected than intended.
 */
import type { DpopMode } from './http/challenge.js'
import type { AccessTokenClaims, RequireAuthOptions } from './types.js'

export interface RouteRequirements {
  scopes: readonly string[]
  match: 'all' | 'any'
  claim: string
  optional: boolean
  /** Overrides the plugin's DPoP mode for this route. */
  dpop: DpopMode | undefined
}

const KEYS = new Set(['scopes', 'match', 'claim', 'optional', 'dpop'])

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

export function routeRequirements (spec?: string | string[] | RequireAuthOptions): RouteRequirements {
  if (spec === undefined || typeof spec === 'string' || Array.isArray(spec)) {
    return { scopes: spec === undefined ? [] : scopeList(spec), match: 'all', claim: 'scope', optional: false, dpop: undefined }
  }
  if (typeof spec !== 'object' || spec === null) fail('expected a scope, a list of scopes or an options object')
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) fail(`unknown option "${key}" (known: ${[...KEYS].join(', ')})`)
  }
  if (spec.match !== undefined && spec.match !== 'all' && spec.match !== 'any') fail('match must be "all" or "any"')
  if (spec.claim !== undefined && (typeof spec.claim !== 'string' || spec.claim === '')) fail('claim must be a non-empty claim name')
  if (spec.optional !== undefined && typeof spec.optional !== 'boolean') fail('optional must be a boolean')
  if (spec.dpop !== undefined && spec.dpop !== 'required') fail('dpop must be "required" when set')
  return {
    scopes: spec.scopes === undefined ? [] : scopeList(spec.scopes),
    match: spec.match ?? 'all',
    claim: spec.claim ?? 'scope',
    optional: spec.optional ?? false,
    dpop: spec.dpop
  }
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
