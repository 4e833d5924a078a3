/**
 * Option types of the policies (SPEC §8), in a module that imports nothing, so lib/types.ts can
 * name them while the policy modules import lib/types.ts.
 */

/** `'any'` (Auth0's profile and RFC 9068's) or `'rfc9068'` (RFC 9068 only). */
export type TokenProfile = 'any' | 'rfc9068'

export interface StepUpOptions {
  /** Claim holding the login's authentication context class. Default `'acr'`. */
  acrClaim?: string
  /** Claim holding the login time (seconds since the epoch). Default `'auth_time'`. */
  authTimeClaim?: string
}

/** The token's organization, as a policy function sees it. */
export interface Organization {
  /** `org_id`. */
  id: string
  /** `org_name`, when the tenant includes it in tokens. */
  name: string | undefined
}

export type OrganizationFunction<R = unknown> = (organization: Organization, request: R) => boolean | Promise<boolean>

/** `true`, an organization id or name, a list of them, or a function deciding. */
export type OrganizationOption<R = unknown> = true | string | string[] | OrganizationFunction<R>
