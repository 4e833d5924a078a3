/**
 * Auth0 Organizations (SPEC §8). Auth0: "if an org_id claim is present in the access token, your
 * API should validate the claim"; a token without the organization a route expects, or with
 * another one, is treated as invalid (401 `invalid_token`).
 *
 * A policy is compiled once (plugin option or route declaration) from:
 * - `true`: any organization (a non-blank `org_id`);
 * - an id (`org_…`, compared exactly with `org_id`), a name (anything else, compared with
 *   `org_name` case-insensitively, Auth0's rule), or a list of both;
 * - a function of `{ id, name }` and the request, answering `true` (or a promise of it) to accept.
 * A blank (whitespace-only) `org_id` or `org_name` counts as missing.
 */
import { InternalAuthError, InvalidTokenError, type AuthError, type ChallengeScheme } from '../errors.js'
import type { AccessTokenClaims } from '../types.js'
import type { MaybePromise } from '../util/maybe-async.js'
import type { OrganizationFunction } from './options.js'

/** A compiled policy: `undefined` accepts; a refusal is an `AuthError` (a 500 when the function throws). */
export type OrganizationPolicy = (claims: AccessTokenClaims, request: unknown, scheme: ChallengeScheme) => MaybePromise<AuthError | undefined>

function present (value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined
}

const MISSING = 'token has no organization (org_id) and this API requires one'
const NOT_ALLOWED = 'token organization is not allowed here'
const NAME_MISSING = 'token has no org_name claim to match the allowed organization names (include organization names in tokens, or allow organization ids)'

/** Compiles an `organization` option; throws a start-up error naming `name` when it is malformed. */
export function compileOrganization (option: unknown, name: string, fail: (message: string) => never): OrganizationPolicy {
  if (option === true) {
    return (claims, _request, scheme) => present(claims.org_id) === undefined ? new InvalidTokenError('organization_missing', MISSING, { scheme }) : undefined
  }
  if (typeof option === 'function') return functionPolicy(option as OrganizationFunction)
  const values = typeof option === 'string' ? [option] : option
  if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string' || v.trim() === '')) {
    fail(`${name} must be true, an organization id or name, a non-empty list of them, or a function`)
  }
  const ids = new Set<string>()
  const names = new Set<string>()
  for (const value of values as string[]) {
    if (value.startsWith('org_')) ids.add(value)
    else names.add(value.toLowerCase())
  }
  return (claims, _request, scheme) => {
    const id = present(claims.org_id)
    if (id === undefined) return new InvalidTokenError('organization_missing', MISSING, { scheme })
    if (ids.has(id)) return undefined
    if (names.size === 0) return new InvalidTokenError('organization_not_allowed', NOT_ALLOWED, { scheme })
    const orgName = present(claims.org_name)
    if (orgName === undefined) return new InvalidTokenError('organization_name_missing', NAME_MISSING, { scheme })
    return names.has(orgName.toLowerCase()) ? undefined : new InvalidTokenError('organization_not_allowed', NOT_ALLOWED, { scheme })
  }
}

function functionPolicy (decide: OrganizationFunction): OrganizationPolicy {
  const verdict = (accepted: unknown, scheme: ChallengeScheme): AuthError | undefined =>
    accepted === true ? undefined : new InvalidTokenError('organization_not_allowed', NOT_ALLOWED, { scheme })
  const failed = (err: unknown): AuthError => new InternalAuthError('organization_check_failed', { cause: err })
  return (claims, request, scheme) => {
    const id = present(claims.org_id)
    if (id === undefined) return new InvalidTokenError('organization_missing', MISSING, { scheme })
    let accepted: boolean | Promise<boolean>
    try {
      accepted = decide({ id, name: present(claims.org_name) }, request)
    } catch (err) {
      return failed(err)
    }
    // Only a real promise is awaited: a function answering anything but `true` refuses.
    if (accepted instanceof Promise) return accepted.then((value) => verdict(value, scheme), failed)
    return verdict(accepted, scheme)
  }
}
