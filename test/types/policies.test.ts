/**
 * Type test of the policies' options (issue 10, SPEC §8), enforced by `npm run typecheck`
 * (`tsc --noEmit -p .`; the test runner does not type-check): every line after a
 * `// @ts-expect-error` must fail to compile, or the directive itself is an error, so a type that
 * grows lax fails the build. The valid forms next to them must compile. Nothing here runs: the
 * calls sit in functions that are never called.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import t from 'tap'
import auth0Plugin, {
  claimEquals,
  claimIncludes,
  type AccessTokenClaims,
  type Auth0PluginOptions,
  type ClaimCheck,
  type Organization,
  type OrganizationOption,
  type RequireAuthOptions,
  type VerifyRequest
} from '../../lib/index.js'

type Assert<T extends true> = T
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

const base = { domain: 'tenant.example.com', audience: 'https://api.example.com/' }

// What a route's organization function and check receive.
export type OrganizationArgument = Assert<Equal<Parameters<Extract<RequireAuthOptions['organization'], (...args: never[]) => unknown>>[0], Organization>>
export type OrganizationRequest = Assert<Equal<Parameters<Extract<RequireAuthOptions['organization'], (...args: never[]) => unknown>>[1], FastifyRequest>>
export type CheckClaims = Assert<Equal<Parameters<ClaimCheck>[0], AccessTokenClaims>>
export type OrgName = Assert<Equal<Organization['name'], string | undefined>>

/** Plugin options: valid forms, then misuse. */
export async function pluginOptions (): Promise<void> {
  await Fastify().register(auth0Plugin, { ...base, profile: 'rfc9068', maxTokenAge: 300, requiredClaims: ['org_id'], stepUp: { acrClaim: 'https://example.com/acr', authTimeClaim: 'https://example.com/auth_time' } })
  await Fastify().register(auth0Plugin, { ...base, organization: true })
  await Fastify().register(auth0Plugin, { ...base, organization: 'org_abc' })
  await Fastify().register(auth0Plugin, { ...base, organization: ['org_abc', 'acme'] })
  await Fastify().register(auth0Plugin, { ...base, organization: async (org, request) => org.id === 'org_abc' && request.method === 'GET' })

  // @ts-expect-error profile is 'any' or 'rfc9068'
  await Fastify().register(auth0Plugin, { ...base, profile: 'rfc9069' })
  // @ts-expect-error maxTokenAge is a number of seconds
  await Fastify().register(auth0Plugin, { ...base, maxTokenAge: '300' })
  // @ts-expect-error requiredClaims is a list
  await Fastify().register(auth0Plugin, { ...base, requiredClaims: 'org_id' })
  // @ts-expect-error stepUp claim names are strings
  await Fastify().register(auth0Plugin, { ...base, stepUp: { acrClaim: 1 } })
  // @ts-expect-error stepUp has acrClaim and authTimeClaim only
  await Fastify().register(auth0Plugin, { ...base, stepUp: { acr: 'gold' } })
  // @ts-expect-error organization is true, an id or name, a list or a function
  await Fastify().register(auth0Plugin, { ...base, organization: 42 })
  // @ts-expect-error false turns a route's policy off; at the plugin it means nothing
  await Fastify().register(auth0Plugin, { ...base, organization: false })
  // @ts-expect-error a list of ids or names, not of numbers
  await Fastify().register(auth0Plugin, { ...base, organization: ['org_abc', 7] })
  // @ts-expect-error the function decides with a boolean, not a string
  await Fastify().register(auth0Plugin, { ...base, organization: () => 'org_abc' })

  const option: OrganizationOption = ['org_abc']
  const options: Auth0PluginOptions = { ...base, organization: option }
  void options
}

/** Route options: valid forms, then misuse. */
export function routeOptions (app: FastifyInstance): void {
  app.requireAuth({ acr: 'gold', maxAge: 300 })
  app.requireAuth({ acr: ['gold', 'platinum'], organization: false })
  app.requireAuth({ organization: (org, request) => org.id === (request.params as { orgId: string }).orgId })
  app.requireAuth({ organization: async (org) => org.name?.toLowerCase() === 'acme' })
  app.requireAuth({ check: (claims) => claims.sub.startsWith('auth0|') })
  app.requireAuth({ check: async (claims, request) => claims.sub === request.headers['x-user'] })
  app.requireAuth({ check: claimEquals('email_verified', true) })
  app.requireAuth({ check: claimIncludes('https://example.com/roles', 'admin', 'editor') })

  // @ts-expect-error organization is not a number
  app.requireAuth({ organization: 42 })
  // @ts-expect-error the organization function takes { id, name }, not a string
  app.requireAuth({ organization: (org: string) => org === 'org_abc' })
  // @ts-expect-error the organization function has two parameters, not three
  app.requireAuth({ organization: (org: Organization, request: FastifyRequest, extra: number) => extra > 0 })
  // @ts-expect-error the organization function returns a boolean (or a promise of one)
  app.requireAuth({ organization: async () => 'org_abc' })
  // @ts-expect-error acr values are strings
  app.requireAuth({ acr: 1 })
  // @ts-expect-error acr values are strings, in a list too
  app.requireAuth({ acr: ['gold', 2] })
  // @ts-expect-error maxAge is a number of seconds
  app.requireAuth({ maxAge: '5' })
  // @ts-expect-error profile is a plugin option, not a route option
  app.requireAuth({ profile: 'rfc9068' })
  // @ts-expect-error a check returns a boolean, not a string
  app.requireAuth({ check: () => 'yes' })
  // @ts-expect-error a check returns a boolean, not a promise of a string
  app.requireAuth({ check: async () => 'yes' })
  // @ts-expect-error a check receives the claims, not a string
  app.requireAuth({ check: (claims: string) => claims === 'x' })
  // @ts-expect-error claimEquals compares with a JSON primitive, not an object
  claimEquals('tenant', { id: 1 })
  // @ts-expect-error claimIncludes takes values one by one, not a list
  claimIncludes('roles', ['admin'])
  // @ts-expect-error claimIncludes needs a claim name
  claimIncludes(5, 'admin')
}

/** fastify.auth0.verify(): the functions receive the object given to it. */
export async function verifyOptions (app: FastifyInstance, request: VerifyRequest & { tenant: string }): Promise<void> {
  await app.auth0.verify(request, { organization: (org, req) => org.id === req.tenant, check: (claims, req) => claims.sub !== req.tenant })
  // @ts-expect-error the request is the object given to verify(), which has no params
  await app.auth0.verify(request, { organization: (org, req) => org.id === req.params })
}

t.pass('type-level assertions hold when tsc --noEmit passes (npm run typecheck)')
