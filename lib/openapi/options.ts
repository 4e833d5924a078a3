/**
 * The public `openapi` option. A leaf module: lib/types.ts re-exports it, and the @fastify/swagger
 * integration reads it, without either importing the other.
 */
export interface OpenApiOptions {
  /** Name of the Bearer scheme in `components.securitySchemes`. Default `'bearerAuth'`. */
  bearerScheme?: string
  /** Name of the DPoP scheme. Default `'dpopAuth'`. */
  dpopScheme?: string
  /**
   * Name of the `openIdConnect` scheme (its `openIdConnectUrl`: the issuer's discovery document)
   * under which each operation lists its scopes; with several issuers, one scheme per issuer,
   * named `<name>-<issuer host>`. `false` leaves it out. Default `'oidc'`.
   */
  oidcScheme?: string | false
  /** @fastify/swagger decorator(s) to complete (its `decorator` option). Default `'swagger'`. */
  decorator?: string | string[]
  /** JSON schema of the 401/403 body, when `errorResponse` changes it. Default `AuthErrorBody`. */
  errorSchema?: Record<string, unknown>
}
