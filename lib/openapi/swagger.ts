/**
 * @fastify/swagger integration. @fastify/swagger builds operations from route schemas but offers a
 * plugin no way to add security schemes to `components`, and it throws on a `security` entry that
 * names an undefined scheme. So the work is split in two:
 *
 * 1. an `onRoute` hook gives each `requireAuth` route a copy of its schema carrying a vendor
 *    extension (`x-fastify-auth0-api`) that @fastify/swagger copies onto the operation as is;
 * 2. once the application is ready, the swagger decorator is wrapped: the generated document gets
 *    the security schemes, each marked operation its `security` requirements and 401/403
 *    responses, and the extension is removed.
 *
 * The responses are added to the document only, never to the route's `schema.response`: a
 * response schema there would also reshape what the handler itself sends with 401 or 403.
 */
import type { FastifyInstance, RouteOptions } from 'fastify'
import type { ResolvedConfig } from '../config/options.js'
import type { DpopMode } from '../http/challenge.js'
import type { RouteRequirements } from '../scopes.js'
import { AuthErrorBody } from './schemas.js'
import { toYaml } from './yaml.js'
import type { OpenApiOptions } from './options.js'

export type { OpenApiOptions } from './options.js'

/** What a route needs, carried from `onRoute` to the document. */
interface Marker {
  schemes: Array<'bearer' | 'dpop'>
  /** Alternatives: any one scope set suffices. `[[]]` when no scope is required. */
  scopeSets: string[][]
  /** The same, with OAuth scopes only (from `scope`, `scp` or `permissions`): what the `openIdConnect` schemes list. */
  oauthScopeSets: string[][]
  optional: boolean
}

export const MARKER = 'x-fastify-auth0-api'
const ERROR_SCHEMA_NAME = 'AuthErrorBody'
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const KEYS = new Set(['bearerScheme', 'dpopScheme', 'oidcScheme', 'decorator', 'errorSchema'])
/**
 * Claims whose values are OAuth scopes a client can ask for: `scope`, `scp`, and Auth0's RBAC
 * `permissions` (the API's own scopes, granted per user). Values of any other claim (roles, a
 * namespaced custom claim) are not requested as scopes, so the `openIdConnect` schemes omit them.
 */
const SCOPE_CLAIMS = new Set(['scope', 'scp', 'permissions'])
/** Bounds the cross product when a route stacks several `match: 'any'` hooks. */
const MAX_ALTERNATIVES = 32

export interface OpenApiIntegration {
  /** `onRoute`: marks a protected route when @fastify/swagger is registered. */
  onRoute (instance: FastifyInstance, route: RouteOptions, requirements: readonly RouteRequirements[]): void
  /** `onReady`: wraps the swagger decorator(s) so generated documents are completed. */
  onReady (instance: FastifyInstance): void
}

function fail (message: string): never {
  throw new Error(`fastify-auth0-api: openapi: ${message}`)
}

function schemeName (value: unknown, name: string, def: string): string {
  if (value === undefined) return def
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]+$/.test(value)) fail(`${name} must be a security scheme name (letters, digits, ".", "_", "-")`)
  return value
}

/** Alternatives (OR) of scope sets (AND) that satisfy every hook of the route. */
function scopeSets (requirements: readonly RouteRequirements[]): string[][] {
  let sets: string[][] = [[]]
  for (const r of requirements) {
    const own = r.scopes.length === 0 ? [[]] : r.match === 'all' ? [[...r.scopes]] : r.scopes.map((s) => [s])
    const next: string[][] = []
    for (const a of sets) for (const b of own) next.push([...new Set([...a, ...b])])
    sets = next.slice(0, MAX_ALTERNATIVES)
  }
  return sets
}

/**
 * One `openIdConnect` scheme per configured issuer: `base` alone for one issuer, else
 * `base-<host and path>` (characters a scheme name cannot hold become `_`), unique.
 */
function oidcSchemes (base: string, issuers: readonly string[], audience: readonly string[]): Array<[string, Record<string, unknown>]> {
  const taken = new Set<string>()
  return issuers.map((issuer) => {
    const url = new URL(issuer)
    const stem = issuers.length === 1 ? base : `${base}-${`${url.host}${url.pathname}`.replace(/[^A-Za-z0-9._-]/g, '_').replace(/_+$/, '')}`
    let name = stem
    // Two issuers on one host and path (http and https): numbered.
    for (let n = 2; taken.has(name); n++) name = `${stem}-${n}`
    taken.add(name)
    return [name, {
      type: 'openIdConnect',
      openIdConnectUrl: `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
      description: `Access token from ${issuer} for the audience ${audience.join(' or ')}, with the scopes each operation lists; sent as "Authorization: Bearer <token>".`
    }]
  })
}

function describeScopes (sets: string[][]): string {
  return sets.map((set) => set.join(' and ')).join(', or ')
}

export function resolveOpenApi (option: boolean | OpenApiOptions | undefined, config: ResolvedConfig): OpenApiIntegration | undefined {
  if (option === false) return undefined
  const spec: OpenApiOptions = option === undefined || option === true ? {} : option
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) fail(`unknown option "${key}" (known: ${[...KEYS].join(', ')})`)
  }
  const bearer = schemeName(spec.bearerScheme, 'bearerScheme', 'bearerAuth')
  const dpop = schemeName(spec.dpopScheme, 'dpopScheme', 'dpopAuth')
  if (bearer === dpop) fail('bearerScheme and dpopScheme must differ')
  const decorators = spec.decorator === undefined ? ['swagger'] : Array.isArray(spec.decorator) ? spec.decorator : [spec.decorator]
  if (decorators.length === 0 || decorators.some((d) => typeof d !== 'string' || d === '')) fail('decorator must be a decorator name or a list of them')
  if (spec.errorSchema !== undefined && (typeof spec.errorSchema !== 'object' || spec.errorSchema === null)) fail('errorSchema must be a JSON schema object')
  // A plain JSON copy: TypeBox keeps its own metadata under symbols.
  const errorSchema = JSON.parse(JSON.stringify(spec.errorSchema ?? AuthErrorBody)) as Record<string, unknown>

  const issuers = config.issuers.map((entry) => entry.issuer).join(', ')
  const from = issuers === '' ? '' : ` issued by ${issuers}`
  const securitySchemes: Record<string, Record<string, unknown>> = {
    [bearer]: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: `OAuth 2.0 access token (JWT)${from}, sent as "Authorization: Bearer <token>".`
    },
    [dpop]: {
      type: 'http',
      scheme: 'DPoP',
      description: `DPoP-bound access token (RFC 9449)${from}, sent as "Authorization: DPoP <token>" together with a DPoP proof JWT in the "DPoP" header (proof algorithms: ${config.dpop.algorithms.join(', ')}).`
    }
  }
  const names = { bearer, dpop }
  if (spec.oidcScheme !== undefined && spec.oidcScheme !== false) schemeName(spec.oidcScheme, 'oidcScheme', 'oidc')
  // Static issuers only: a `domains` resolver decides per request, so there is no list to describe.
  const oidc = spec.oidcScheme === false ? [] : oidcSchemes(spec.oidcScheme ?? 'oidc', config.issuers.map((entry) => entry.issuer), config.audience)
  for (const [name] of oidc) if (name === bearer || name === dpop) fail(`oidcScheme "${name}" is already the name of the Bearer or DPoP scheme`)

  function marker (requirements: readonly RouteRequirements[]): Marker {
    const mode: DpopMode = requirements.some((r) => r.dpop === 'required') ? 'required' : config.dpop.mode
    return {
      schemes: mode === 'disabled' ? ['bearer'] : mode === 'required' ? ['dpop'] : ['bearer', 'dpop'],
      scopeSets: scopeSets(requirements),
      oauthScopeSets: scopeSets(requirements.map((r) => SCOPE_CLAIMS.has(r.claim) ? r : { ...r, scopes: [] })),
      optional: requirements.every((r) => r.optional)
    }
  }

  /** Completes a generated document in place; a second call finds nothing left to do. */
  function complete (document: Record<string, unknown>): void {
    const version = typeof document.openapi === 'string' ? document.openapi : undefined
    // OpenAPI 3.0 allows scopes only for oauth2/openIdConnect schemes; 3.1 allows role names for any scheme.
    const scopesAllowed = version !== undefined && !version.startsWith('3.0')
    const used = new Set<'bearer' | 'dpop'>()
    let oidcUsed = false
    let responsesAdded = false
    for (const item of Object.values((document.paths ?? {}) as Record<string, Record<string, unknown>>)) {
      for (const method of METHODS) {
        const operation = item?.[method] as Record<string, unknown> | undefined
        const mark = operation?.[MARKER] as Marker | undefined
        if (operation === undefined || mark === undefined) continue
        delete operation[MARKER]
        // Swagger 2.0 has no bearer scheme: the marker is dropped and nothing is added.
        if (version === undefined) continue
        if (operation.security === undefined) {
          const security: Array<Record<string, string[]>> = []
          const seen = new Set<string>()
          for (const set of mark.scopeSets) {
            for (const scheme of mark.schemes) {
              const requirement = { [names[scheme]]: scopesAllowed ? set : [] }
              const id = JSON.stringify(requirement)
              if (!seen.has(id)) security.push(requirement)
              seen.add(id)
              used.add(scheme)
            }
          }
          // The scopes under `openIdConnect`, which every OpenAPI 3 version allows, for routes that
          // take a Bearer token: what such a scheme's token is sent as. A DPoP-only route gets none
          // (a tool would send the token it obtains as Bearer, and be refused).
          if (mark.schemes.includes('bearer')) {
            for (const set of mark.oauthScopeSets) {
              for (const [name] of oidc) {
                const requirement = { [name]: set }
                const id = JSON.stringify(requirement)
                if (!seen.has(id)) security.push(requirement)
                seen.add(id)
                oidcUsed = true
              }
            }
          }
          if (mark.optional) security.push({})
          operation.security = security
        }
        const responses = (operation.responses ??= {}) as Record<string, unknown>
        const content = { 'application/json': { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` } } }
        responses['401'] ??= {
          description: mark.optional
            ? 'Unauthorized: the credentials sent are invalid (the request may also be sent without any); see the WWW-Authenticate header'
            : 'Unauthorized: the access token is missing or invalid; see the WWW-Authenticate header',
          content
        }
        const required = mark.scopeSets.filter((set) => set.length > 0)
        if (required.length > 0) {
          responses['403'] ??= { description: `Forbidden: the access token lacks the required scope (${describeScopes(required)})`, content }
        }
        responsesAdded = true
      }
    }
    if (!responsesAdded) return
    const components = (document.components ??= {}) as Record<string, Record<string, unknown>>
    components.schemas ??= {}
    components.schemas[ERROR_SCHEMA_NAME] ??= errorSchema
    if (used.size === 0) return
    components.securitySchemes ??= {}
    for (const scheme of used) components.securitySchemes[names[scheme]] ??= securitySchemes[names[scheme]]
    if (oidcUsed) for (const [name, scheme] of oidc) components.securitySchemes[name] ??= scheme
  }

  return {
    onRoute (instance, route, requirements) {
      if (requirements.length === 0 || !instance.hasPlugin('@fastify/swagger')) return
      // A copy: the same schema object may be shared by several routes.
      route.schema = { ...route.schema, [MARKER]: marker(requirements) } as RouteOptions['schema']
    },
    onReady (instance) {
      const target = instance as unknown as Record<string, unknown>
      for (const name of decorators) {
        const original = target[name]
        if (typeof original !== 'function') continue
        let yaml: string | undefined
        const completed = function (this: unknown, opts?: { yaml?: boolean }): unknown {
          // @fastify/swagger caches the document object; completing it in place keeps that cache valid.
          const document = original.call(this, opts?.yaml === true ? {} : opts) as Record<string, unknown>
          complete(document)
          if (opts?.yaml !== true) return document
          yaml ??= toYaml(document)
          return yaml
        }
        target[name] = completed
      }
    }
  }
}
