/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata: the document that tells a client (an MCP client,
 * for instance) which authorization servers issue tokens for this API, how to present them and
 * which scopes exist, served at the well-known URL derived from the resource identifier (§3.1),
 * and named in every 401 challenge (`resource_metadata=`, §5.1).
 */
import type { ResolvedConfig } from '../config/options.js'
import { isLoopbackHost } from '../config/issuer-url.js'
import type { RouteRequirements } from '../scopes.js'
import type { ResourceMetadataOptions } from './options.js'

export type { ResourceMetadataOptions } from './options.js'

export interface ResourceMetadata {
  /** The absolute URL of the document, as sent in `resource_metadata=`. */
  readonly url: string
  /** The path the document is served at. */
  readonly path: string
  /** Records the scopes of a protected route (from the `onRoute` hook). */
  addRoute (requirements: readonly RouteRequirements[]): void
  /** The document; call it once every route is declared. */
  document (): Record<string, unknown>
}

const PREFIX = 'fastify-auth0-api: '
/** Claims whose values are OAuth scopes (Auth0 RBAC permissions are the API's scopes too). */
const SCOPE_CLAIMS = new Set(['scope', 'scp', 'permissions'])
/** Optional descriptive members: option name → RFC 9728 member. */
const OPTIONAL = [
  ['resourceName', 'resource_name'],
  ['resourceDocumentation', 'resource_documentation'],
  ['resourcePolicyUri', 'resource_policy_uri'],
  ['resourceTosUri', 'resource_tos_uri']
] as const
const KEYS = new Set(['resource', 'authorizationServers', 'scopesSupported', ...OPTIONAL.map(([name]) => name)])

function fail (message: string): never {
  throw new Error(PREFIX + message)
}

/** An https URL (http only on loopback) without credentials or fragment; `query` says whether a query is allowed. */
function checkUrl (value: unknown, name: string, query = false): URL {
  let url: URL | undefined
  try { url = new URL(String(value)) } catch {}
  if (typeof value !== 'string' || url === undefined || value.includes('#') || url.username !== '' || url.password !== '' ||
    (!query && url.search !== '') || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))) {
    fail(`${name} must be an absolute https URL (http only on loopback) without credentials${query ? '' : ', query'} or fragment`)
  }
  return url
}

/** The well-known URL of RFC 9728 §3.1: `/.well-known/oauth-protected-resource` inserted before the path. */
export function metadataUrlFor (resource: URL): URL {
  const path = resource.pathname === '/' ? '' : resource.pathname
  return new URL(`/.well-known/oauth-protected-resource${path}`, resource.origin)
}

export function resolveResourceMetadata (option: boolean | ResourceMetadataOptions | undefined, config: ResolvedConfig): ResourceMetadata | undefined {
  if (option === undefined || option === false) return undefined
  const spec: ResourceMetadataOptions = option === true ? {} : option
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) fail(`resourceMetadata: unknown option "${key}" (known: ${[...KEYS].join(', ')})`)
  }

  const resource = spec.resource ?? config.publicBaseURL
  if (resource === undefined) {
    fail('resourceMetadata needs the resource URL to build the absolute metadata URL: set resourceMetadata.resource or publicBaseURL (AUTH0_PUBLIC_BASE_URL)')
  }
  const url = metadataUrlFor(checkUrl(resource, spec.resource !== undefined ? 'resourceMetadata.resource' : 'publicBaseURL'))

  const servers = spec.authorizationServers ?? config.issuers.map((entry) => entry.issuer)
  if (!Array.isArray(servers) || servers.length === 0) {
    fail('resourceMetadata.authorizationServers is required when issuers come from a domains resolver (list the issuer URLs clients should use)')
  }
  servers.forEach((server, i) => checkUrl(server, `resourceMetadata.authorizationServers[${i}]`))

  const configured = spec.scopesSupported ?? []
  if (!Array.isArray(configured) || configured.some((s) => typeof s !== 'string' || s === '' || /\s/.test(s))) {
    fail('resourceMetadata.scopesSupported must be an array of scopes without whitespace')
  }
  const optional: Record<string, string> = {}
  for (const [name, member] of OPTIONAL) {
    const value = spec[name]
    if (value === undefined) continue
    if (name === 'resourceName') {
      if (typeof value !== 'string' || value === '') fail('resourceMetadata.resourceName must be a non-empty string')
    } else {
      checkUrl(value, `resourceMetadata.${name}`, true)
    }
    optional[member] = value
  }

  const scopes = new Set<string>(configured)
  return {
    url: url.href,
    path: url.pathname,
    addRoute (requirements) {
      for (const route of requirements) {
        if (SCOPE_CLAIMS.has(route.claim)) for (const scope of route.scopes) scopes.add(scope)
      }
    },
    document () {
      const { mode, algorithms } = config.dpop
      return {
        // §3.3: exactly the identifier the metadata URL was derived from.
        resource,
        authorization_servers: [...new Set(servers)],
        bearer_methods_supported: ['header'],
        scopes_supported: [...scopes].sort(),
        ...(mode !== 'disabled' ? { dpop_signing_alg_values_supported: [...algorithms] } : {}),
        ...(mode === 'required' ? { dpop_bound_access_tokens_required: true } : {}),
        ...optional
      }
    }
  }
}
