/**
 * Public types: options, claims, request decorations. `AccessTokenClaims` is an interface so an
 * application adds its own claims by declaration merging:
 *
 *   declare module 'fastify-auth0-api' {
 *     interface AccessTokenClaims { 'https://example.com/roles'?: string[] }
 *   }
 */
import type { FastifyRequest } from 'fastify'
import type { JSONWebKeySet } from 'jose'
import type { CacheAdapter, ReplayStore } from './stores/types.js'
import type { DpopMode } from './http/challenge.js'
import type { ErrorResponse, OnAuthError } from './diagnostics/index.js'
import type { ResourceMetadataOptions } from './metadata/options.js'
import type { OpenApiOptions } from './openapi/options.js'
import type { ClientOptions } from './token-exchange/types.js'
import type { FetchLike } from './keys/fetch-json.js'
import type { TokenSource, TokenSourceName } from './http/token-sources.js'
import type { MtlsOptions, ClientCertificate } from './mtls/options.js'

export type { FetchLike, TokenSource, TokenSourceName, MtlsOptions, ClientCertificate }
import type { Organization, OrganizationOption, StepUpOptions, TokenProfile } from './policies/options.js'
import type { DecryptionOptions } from './jwe/options.js'

export type { DpopMode }

/** The verified access-token payload. Registered claims are checked before you see them. */
export interface AccessTokenClaims {
  iss: string
  sub: string
  aud: string | string[]
  exp: number
  iat: number
  nbf?: number
  jti?: string
  /** Space-separated string (RFC 8693 §4.2) or, from some issuers, an array. */
  scope?: string | string[]
  /** Auth0 RBAC permissions. */
  permissions?: string[]
  azp?: string
  client_id?: string
  org_id?: string
  org_name?: string
  /**
   * Confirmation: `jkt` binds the token to a DPoP key (RFC 9449 §6), `x5t#S256` to a client
   * certificate (RFC 8705 §3.1).
   */
  cnf?: { jkt?: string, 'x5t#S256'?: string, [member: string]: unknown }
  [claim: string]: unknown
}

export type JSONPrimitive = string | number | boolean | null

/**
 * A route's claim check (`requireAuth({ check })`): `true` (or a promise of it) accepts. The
 * request is the route's, or the object given to `fastify.auth0.verify()`.
 */
export type ClaimCheck<R = unknown> = (claims: AccessTokenClaims, request: R) => boolean | Promise<boolean>

/** How the request authenticated. */
export interface AuthInfo {
  scheme: 'bearer' | 'dpop'
  /** The raw access token, for calling downstream APIs on the user's behalf. Never log it. */
  token: string
  /** RFC 7638 thumbprint of the DPoP key, for DPoP requests. */
  jkt?: string
  /** Where the token came from, when not the Authorization header (`tokenSources`). */
  source?: Exclude<TokenSourceName, 'header'>
  /** RFC 8705 thumbprint of the client certificate, for certificate-bound tokens (`mtls`). */
  x5t?: string
  /** The client the token was issued to: `client_id` (RFC 9068), else `azp` (Auth0's profile). */
  clientId?: string
}

export interface DpopOptions {
  /** `'allowed'` (default): Bearer or DPoP; `'required'`: DPoP only; `'disabled'`: Bearer only. */
  mode?: DpopMode
  /** Proof algorithms accepted and advertised in `algs=`. Default `['ES256']`. */
  algorithms?: string[]
  /** Seconds a proof's `iat` may lie in the past. Default 300. */
  iatOffset?: number
  /** Seconds a proof's `iat` may lie in the future. Default 30. */
  iatLeeway?: number
  /** `jti` replay store. Default: in-memory, bounded, single instance. */
  replayStore?: ReplayStore
  /** Server-issued nonces (RFC 9449 §8–9): `true` or `{ secret?, windowSeconds? }`. Default off. */
  nonce?: boolean | { secret?: string | Uint8Array, windowSeconds?: number }
}

/** The verified-token cache (see docs/performance.md). */
export interface TokenCacheOptions {
  /** Tokens kept at most; the least recently used goes first. Default 10000. */
  max?: number
  /** Seconds a token is kept at most (never past its `exp`). Default 300. */
  ttl?: number
}

export interface CacheOptions {
  /** Seconds discovery and JWKS documents stay fresh (a shorter `Cache-Control: max-age` wins). Default 600. */
  ttl?: number
  /** Issuers whose keys are kept at most. Default 100. */
  maxIssuers?: number
  /** Seconds between two refetches caused by an unknown `kid`. Default 30. */
  cooldown?: number
  /** Seconds to wait after a failed fetch before trying the issuer again. Default 5. */
  failureBackoff?: number
  /** Async store shared by several instances (e.g. `redisStore()` from `fastify-auth0-api/redis`). Default: none, each process keeps its own. */
  adapter?: CacheAdapter
  /** Milliseconds an adapter call may take before it counts as a miss (a hung Redis cannot stall requests). Default 500. */
  adapterTimeout?: number
}

/**
 * What happened to an issuer's keys, for metrics and alerts. The plugin also logs each one:
 * `fetched` at info, the others at warn.
 */
export type KeySetEvent =
  | { type: 'fetched', issuer: string, url: string, document: 'discovery' | 'jwks' }
  /** A fetch failed; known keys (if any) remain in use. */
  | { type: 'fetch_failed', issuer: string, url: string, document: 'discovery' | 'jwks', error: Error }
  /** Keys past their expiry verified tokens because the issuer is unreachable (once per failed attempt). */
  | { type: 'stale', issuer: string, expiredSeconds: number }
  /** The cache adapter failed or timed out; the network and the in-process state were used instead. */
  | { type: 'cache_failed', operation: 'get' | 'set', key: string, error: Error }
  /**
   * A token named a key of the issuer's set that cannot verify anything (an RSA key under 2048
   * bits, a key that does not import): such tokens get 401 `key_unusable`. Once per key.
   */
  | { type: 'key_unusable', issuer: string, kid: string | undefined, alg: string, reason: string }

/** Context given to a `domains` resolver. `unverifiedIss` is attacker-controlled: only compare it. */
export interface DomainsResolverContext {
  unverifiedIss: string
  request: { method: string, url: string, headers: Record<string, string | string[] | undefined> }
}

export interface IssuerEntry {
  /** Issuer URL or bare domain. */
  issuer: string
  /** JWKS URL to use instead of the discovered one (e.g. an in-cluster address). */
  jwksUri?: string
  /** Algorithms for this issuer's tokens; default the plugin's `algorithms`. */
  algorithms?: string[]
}

export type DomainsResolver = (context: DomainsResolverContext) => Array<string | IssuerEntry> | Promise<Array<string | IssuerEntry>>

export interface Auth0PluginOptions {
  /** Tenant host, bare: `tenant.us.auth0.com`. Env `AUTH0_DOMAIN`. Issuer `https://{domain}/`. */
  domain?: string
  /** Full issuer URL of any OIDC provider. Env `AUTH0_ISSUER_BASE_URL`. */
  issuerBaseURL?: string
  /** Multiple Custom Domains: allowed issuers, or a resolver. */
  domains?: Array<string | IssuerEntry> | DomainsResolver
  /** Accepted audiences; any overlap with `aud` passes. Env `AUTH0_AUDIENCE` (comma-separated). */
  audience?: string | string[]
  /** Token algorithms. Default `['RS256']` (`['HS256']` with `secret`). `none` is refused; HS* only with `secret`. */
  algorithms?: string[]
  /** Seconds of clock skew allowed for `exp`, `nbf`, `iat`. Default 5, at most 60. */
  clockTolerance?: number
  /** Longest accepted token, in characters, checked before any decoding. Default 16384. */
  maxTokenLength?: number
  dpop?: DpopOptions
  /** The URL clients use, when a proxy rewrites host or path. Env `AUTH0_PUBLIC_BASE_URL`. */
  publicBaseURL?: string
  cache?: CacheOptions
  /** Seconds past expiry that cached keys keep verifying while the issuer is unreachable. Default 3600. */
  staleIfError?: number
  /** Static key set: no discovery, no network. */
  jwks?: JSONWebKeySet
  /**
   * HMAC verification (an Auth0 API set to HS256): the API's signing secret, a string (its UTF-8
   * bytes) or bytes. Env `AUTH0_SIGNING_SECRET`. Then only HS256/384/512 tokens verify
   * (`algorithms`, default `['HS256']`), nothing is fetched, and `jwks`, `domains` and asymmetric
   * algorithms are start-up errors. See docs/hmac.md.
   */
  secret?: string | Uint8Array
  /** Encrypted (JWE) access tokens: private keys, allowlists, `required`. See docs/encrypted-tokens.md. */
  decryption?: DecryptionOptions
  /**
   * Remembers the claims of fully verified tokens (whole token string as key, until `exp`, dropped
   * when the issuer's keys change); per-request checks still run. `false` verifies every request
   * in full. Default on (`true`): `{ max: 10000, ttl: 300 }`.
   */
  tokenCache?: boolean | TokenCacheOptions
  /** Called for every key fetch, fetch failure, stale use and cache failure (besides the log line). */
  onKeySetEvent?: (event: KeySetEvent) => void
  /** Milliseconds for discovery and JWKS fetches. Default 5000. */
  timeout?: number
  /** `realm` of the challenges. Default `'api'`. */
  realm?: string
  /** Environment to read `AUTH0_*` variables from. Default `process.env`. */
  env?: Record<string, string | undefined>
  /** RFC 9728 metadata at `/.well-known/oauth-protected-resource` and `resource_metadata=` in 401 challenges. Default off. */
  resourceMetadata?: boolean | ResourceMetadataOptions
  /** @fastify/swagger integration (on when @fastify/swagger is registered); `false` turns it off. */
  openapi?: boolean | OpenApiOptions
  /** Called for every failure a `requireAuth` hook answers (may be async; its errors are logged and swallowed). */
  onAuthError?: OnAuthError
  /** Custom reply body for failures; status and authentication headers stay the plugin's. */
  errorResponse?: ErrorResponse
  /** The API's own client credentials, for token exchange (`fastify.auth0.getTokenOnBehalfOf` …). */
  client?: ClientOptions
  /**
   * Where requests may carry the access token: `'header'`, `'query'` (`access_token`), `'body'`
   * (`access_token` in a form body) and `{ cookie: name }`. Default `['header']`; per route too.
   */
  tokenSources?: TokenSource[]
  /** RFC 8705 certificate-bound tokens (`cnf["x5t#S256"]`): `true` (TLS socket) or options. Default off. */
  mtls?: boolean | MtlsOptions
  /** The WHATWG `fetch` for discovery, JWKS and token exchange (egress proxy, private CA …). Default: the global `fetch`. */
  fetch?: FetchLike
  /**
   * Token profile: `'any'` (default; Auth0's profile with `typ` `JWT` or none, and RFC 9068's) or
   * `'rfc9068'` (`typ` `at+jwt`, `client_id` and `jti` required). In every profile a `typ` naming
   * another JWT type (`dpop+jwt`, `logout+jwt` …) is refused.
   */
  profile?: TokenProfile
  /** Seconds: tokens issued longer ago (`iat`, + clockTolerance) are refused, on every request. */
  maxTokenAge?: number
  /** More claims every token must carry (present and not null). */
  requiredClaims?: string[]
  /** Where the login's `acr` and `auth_time` are read (Auth0: namespaced claims an Action writes). */
  stepUp?: StepUpOptions
  /** Auth0 Organizations for every route: `true`, an id or name, a list, or a function deciding. */
  organization?: OrganizationOption<VerifyRequest>
}

/**
 * Route requirements. `R` is the request the route's functions receive: the Fastify request in a
 * `requireAuth` hook, the object given to `fastify.auth0.verify()` there.
 */
export interface RequireAuthOptions<R = FastifyRequest> {
  /** Scopes (or claim values) the token must carry. */
  scopes?: string | string[]
  /** `'all'` (default) or `'any'` of `scopes`. */
  match?: 'all' | 'any'
  /** Claim holding the scopes: `'scope'` (default), `'permissions'`, `'scp'` or any claim name. */
  claim?: string
  /** No credentials → anonymous (`request.claims` stays undefined); bad credentials still fail. */
  optional?: boolean
  /** Per-route DPoP override. */
  dpop?: 'required'
  /** Where this route reads the access token (overrides the plugin's `tokenSources`). */
  tokenSources?: TokenSource[]
  /**
   * Auth0 Organizations for this route, besides the plugin's `organization`: `true`, an id
   * (`org_…`, exact) or name (case-insensitive), a list, or a function; `false` turns the
   * plugin's policy off for this route.
   */
  organization?: boolean | string | string[] | ((organization: Organization, request: R) => boolean | Promise<boolean>)
  /** Step-up (RFC 9470): the login's `acr` must be one of these (exact strings). */
  acr?: string | string[]
  /** Step-up (RFC 9470): seconds since the login (`auth_time`, + clockTolerance). */
  maxAge?: number
  /** Claim check: `true` (or a promise of it) accepts; anything else is 403, a throw is 500. */
  check?: ClaimCheck<R>
}

/** What `fastify.auth0.verify()` needs from a request. */
export interface VerifyRequest {
  method: string
  /**
   * Absolute URL as the client sent it (needed for DPoP `htu`), or a path (DPoP then needs the
   * `publicBaseURL` option).
   */
  url: string
  headers: Record<string, string | string[] | undefined>
  /** The parsed body, for a `'body'` token source. */
  body?: unknown
  /** The client's TLS certificate (PEM, DER or `X509Certificate`), for certificate-bound tokens (`mtls`). */
  clientCertificate?: ClientCertificate
}

export interface VerifyResult {
  claims: AccessTokenClaims
  auth: AuthInfo
  /** A fresh server nonce to send as `DPoP-Nonce`: the client's one is about to expire. */
  dpopNonce?: string
}
