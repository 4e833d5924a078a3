/**
 * fastify-auth0-api: protect Fastify routes with OAuth 2.0 access tokens from Auth0 or any
 * OpenID Connect issuer.
 */
import { auth0Plugin } from './plugin.js'
import * as errors from './errors.js'
import { diagnosticsChannels } from './diagnostics/channels.js'
import { AuthErrorBody } from './openapi/schemas.js'
import { TokenEndpointError } from './token-exchange/errors.js'
import { redactQueryToken } from './http/token-sources.js'
import { claimEquals, claimIncludes } from './policies/claim-checks.js'

export { auth0Plugin, auth0Plugin as fastifyAuth0Api }
export default auth0Plugin
export {
  AuthError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InternalAuthError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  IssuerUnavailableError,
  MissingCredentialsError,
  UnsupportedSchemeError,
  ReplayStoreUnavailableError,
  TemporarilyUnavailableError,
  UseDpopNonceError
} from './errors.js'
export type { ChallengeScheme } from './errors.js'
// The in-memory defaults, exported so an application can size them (e.g. a larger replay window).
export { MemoryCacheAdapter } from './stores/memory-cache.js'
export { MemoryReplayStore } from './stores/memory-replay.js'
export { AuthErrorBody, TokenEndpointError }
// For an application's own logger serializers (routes without requireAuth, 404s).
export { redactQueryToken }
export { claimEquals, claimIncludes } from './policies/claim-checks.js'
export type { Organization, OrganizationFunction, OrganizationOption, StepUpOptions, TokenProfile } from './policies/options.js'
export { diagnosticsChannels }
export type { AuthMessage, AuthOutcome, KeysMessage, VerifyContext } from './diagnostics/channels.js'
export type { AuthErrorBodyType } from './openapi/schemas.js'
export type { ErrorResponse, OnAuthError } from './diagnostics/index.js'
export type { ResourceMetadataOptions } from './metadata/options.js'
export type { OpenApiOptions } from './openapi/options.js'
export type {
  AccessTokenForConnectionOptions,
  ClientOptions,
  ConnectionTokenSet,
  ExchangeProfileOptions,
  ExchangeProfileTokenSet,
  OnBehalfOfOptions,
  TokenExchange,
  TokenSet
} from './token-exchange/types.js'
export type { Auth0Api } from './plugin.js'
export type { AuthErrorHandler } from './http/reply.js'
export type { RequireAuth, RequireAuthHook } from './require-auth.js'
export type { CacheAdapter, ReplayStore } from './stores/types.js'
export type { DecryptionKey, DecryptionOptions } from './jwe/options.js'
export type {
  AccessTokenClaims,
  Auth0PluginOptions,
  AuthInfo,
  CacheOptions,
  ClaimCheck,
  DomainsResolver,
  DomainsResolverContext,
  DpopMode,
  DpopOptions,
  FetchLike,
  IssuerEntry,
  ClientCertificate,
  MtlsOptions,
  TokenSource,
  TokenSourceName,
  JSONPrimitive,
  KeySetEvent,
  RequireAuthOptions,
  TokenCacheOptions,
  VerifyRequest,
  VerifyResult
} from './types.js'

// CommonJS callers (`require('fastify-auth0-api')`, Node ≥ 20.19) get the plugin itself, carrying
// the named exports as properties, the way every @fastify plugin is shaped.
const commonjs = Object.assign(auth0Plugin, { fastifyAuth0Api: auth0Plugin, auth0Plugin, TokenEndpointError, AuthErrorBody, diagnosticsChannels, redactQueryToken, claimEquals, claimIncludes }, errors)
export { commonjs as 'module.exports' }
