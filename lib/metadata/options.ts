/**
 * The public `resourceMetadata` option (RFC 9728). A leaf module: lib/types.ts re-exports it, and
 * the metadata builder reads it, without either importing the other.
 */
export interface ResourceMetadataOptions {
  /** Resource identifier (an https URL without fragment). Default: `publicBaseURL`. */
  resource?: string
  /** Issuer identifiers of the authorization servers. Default: the configured issuer(s). */
  authorizationServers?: string[]
  /** Scopes advertised besides those the `requireAuth` routes require. */
  scopesSupported?: string[]
  /** Human-readable name of the API (`resource_name`). */
  resourceName?: string
  /** URL of the API's developer documentation (`resource_documentation`). */
  resourceDocumentation?: string
  /** URL of the API's data-usage policy (`resource_policy_uri`). */
  resourcePolicyUri?: string
  /** URL of the API's terms of service (`resource_tos_uri`). */
  resourceTosUri?: string
}
