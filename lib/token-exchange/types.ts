/**
 * The public types of token exchange: the `client` option, the methods on `fastify.auth0` and what
 * they return. A leaf module: lib/types.ts re-exports `ClientOptions`, and the client reads it,
 * without either importing the other.
 */
import type { KeyObject } from 'node:crypto'
import type { CryptoKey, JWK } from 'jose'

export interface ClientOptions {
  /** Client ID of the API's own application. Env `AUTH0_CLIENT_ID`. */
  clientId?: string
  /** Client secret. Env `AUTH0_CLIENT_SECRET`. Set this or `privateKey`. */
  clientSecret?: string
  /** How the secret is sent: `'client_secret_post'` (default) or `'client_secret_basic'`. */
  authMethod?: 'client_secret_post' | 'client_secret_basic'
  /** Private key for a private-key JWT client assertion: PKCS#8 PEM, private JWK, CryptoKey or KeyObject. */
  privateKey?: string | JWK | CryptoKey | KeyObject
  /** Algorithm of the client assertion. Default `'RS256'`. */
  privateKeyAlg?: string
  /** `kid` of the client assertion (default: the JWK's `kid`, if any). */
  privateKeyKid?: string
  /** Issuer whose token endpoint is used. Default: `domain` / `issuerBaseURL` (or the only allowed issuer). */
  issuer?: string
  /** Token endpoint, to skip discovery. */
  tokenEndpoint?: string
  /** Milliseconds for each discovery or token request. Default 10000. */
  timeout?: number
}

/** What every exchange returns. `expiresAt` is in seconds since the epoch. */
export interface TokenSet {
  accessToken: string
  tokenType?: string
  expiresIn?: number
  expiresAt?: number
  scope?: string
  /** RFC 8693 `issued_token_type`. */
  issuedTokenType?: string
}

export interface ConnectionTokenSet extends TokenSet {
  connection: string
  loginHint?: string
}

export interface ExchangeProfileTokenSet extends TokenSet {
  idToken?: string
  refreshToken?: string
}

export interface AccessTokenForConnectionOptions {
  /** Connection name, e.g. `'google-oauth2'`. */
  connection: string
  /** The user's Auth0 access token (the raw token, e.g. `request.auth.token`). */
  accessToken: string
  /** Which of the user's accounts on the connection, when there are several. */
  loginHint?: string
}

export interface ExchangeProfileOptions {
  /** Type URI of the subject token, matching a Token Exchange Profile. */
  subjectTokenType: string
  audience?: string
  /** Space-separated scopes. */
  scope?: string
  requestedTokenType?: string
  /** Organization ID or name. */
  organization?: string
}

export interface OnBehalfOfOptions {
  /** Identifier of the API the new token is for. */
  audience: string
  /** Space-separated scopes. */
  scope?: string
}

/** The token-exchange methods of `fastify.auth0`. */
export interface TokenExchange {
  /** Auth0 Token Vault: the access token of the user's account on a federated connection. */
  getAccessTokenForConnection (options: AccessTokenForConnectionOptions): Promise<ConnectionTokenSet>
  /** RFC 8693 token exchange through an Auth0 Custom Token Exchange profile. */
  getTokenByExchangeProfile (subjectToken: string, options: ExchangeProfileOptions): Promise<ExchangeProfileTokenSet>
  /** An access token for another API, on behalf of the same user (access token → access token). */
  getTokenOnBehalfOf (accessToken: string, options: OnBehalfOfOptions): Promise<TokenSet>
}
