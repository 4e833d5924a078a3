/**
 * Token exchange at the authorization server's token endpoint, for an API that calls other APIs
 * as its caller: Auth0 Token Vault (an access token for a federated connection), RFC 8693 Custom
 * Token Exchange, and on-behalf-of (an access token for another audience, same user).
 *
 * The API authenticates as a confidential client, with a client secret (client_secret_post or
 * client_secret_basic) or a private-key JWT assertion (RFC 7523, signed with jose). The token
 * endpoint comes from the issuer's discovery document, fetched on first use and remembered.
 * Every call has a timeout, follows no redirect and caps the answer's size; every failure is a
 * `TokenEndpointError` whose message never carries a token or a secret.
 */
import { randomUUID } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { importJWK, importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose'
import type { Auth0Env } from '../config/env.js'
import { issuerFromDomain, issuerFromUrl, isLoopbackHost } from '../config/issuer-url.js'
import type { ResolvedConfig } from '../config/options.js'
import type { Auth0PluginOptions } from '../types.js'
import { ASYMMETRIC_ALGORITHMS } from '../config/options.js'
import { fetchJson, globalFetch, type FetchLike } from '../keys/fetch-json.js'
import { TokenEndpointError } from './errors.js'

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

const PREFIX = 'fastify-auth0-api: '
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const FEDERATED_CONNECTION = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token'
const FEDERATED_CONNECTION_TOKEN = 'http://auth0.com/oauth/token-type/federated-connection-access-token'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const MAX_BYTES = 512 * 1024
const KEYS = new Set(['clientId', 'clientSecret', 'authMethod', 'privateKey', 'privateKeyAlg', 'privateKeyKid', 'issuer', 'tokenEndpoint', 'timeout'])

function fail (message: string): never {
  throw new Error(PREFIX + message)
}

type Signer = CryptoKey | KeyObject | Uint8Array

interface ClientAuth {
  clientId: string
  secret?: { value: string, method: 'client_secret_post' | 'client_secret_basic' }
  assertion?: { key: Signer, alg: string, kid?: string }
}

export interface ResolvedClient {
  auth: ClientAuth
  issuer: string
  tokenEndpoint?: string
  timeout: number
  /** Outbound `fetch` (the plugin's `fetch` option). Default: the global one. */
  fetch: FetchLike
}

function endpointUrl (value: string, name: string): string {
  let url: URL | undefined
  try { url = new URL(value) } catch {}
  if (url === undefined || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) || url.hash !== '' || url.username !== '') {
    fail(`${name} must be an absolute https URL (http only on loopback) without credentials or fragment`)
  }
  return url.href
}

async function signingKey (key: NonNullable<ClientOptions['privateKey']>, alg: string): Promise<{ key: Signer, kid?: string }> {
  try {
    if (typeof key === 'string') return { key: await importPKCS8(key, alg) }
    if (typeof key === 'object' && key !== null && 'kty' in key) {
      if (typeof key.d !== 'string') fail('client.privateKey is a public JWK: a private key is needed to sign client assertions')
      return { key: await importJWK(key, alg) as CryptoKey, ...(typeof key.kid === 'string' ? { kid: key.kid } : {}) }
    }
  } catch (err) {
    if ((err as Error).message.startsWith(PREFIX)) throw err
    fail(`client.privateKey could not be imported for ${alg}: ${(err as Error).message}`)
  }
  if (typeof key === 'object' && key !== null && (key as { type?: unknown }).type === 'private') return { key: key as CryptoKey }
  fail('client.privateKey must be a PKCS#8 PEM string, a private JWK, a private CryptoKey or KeyObject')
}

/** Reads and checks the `client` option (and `AUTH0_CLIENT_*`); `undefined` when no client is configured. */
export async function resolveClient (options: Auth0PluginOptions, env: Auth0Env, config: ResolvedConfig): Promise<ResolvedClient | undefined> {
  const option = options.client
  if (option !== undefined && (typeof option !== 'object' || option === null)) fail('client must be an options object')
  // From the environment only as a pair: a lone AUTH0_CLIENT_SECRET (say, of a web login in the
  // same process) neither configures the client nor stops the API.
  if (option === undefined && (env.AUTH0_CLIENT_ID === undefined || env.AUTH0_CLIENT_SECRET === undefined)) return undefined
  const spec: ClientOptions = option ?? {}
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) fail(`client: unknown option "${key}" (known: ${[...KEYS].join(', ')})`)
  }
  const clientId = spec.clientId ?? env.AUTH0_CLIENT_ID
  const explicitKey = spec.privateKey !== undefined
  const secret = spec.clientSecret ?? (explicitKey ? undefined : env.AUTH0_CLIENT_SECRET)
  if (clientId === undefined) fail('client.clientId (or AUTH0_CLIENT_ID) is required to call the token endpoint')
  if (typeof clientId !== 'string' || clientId === '') fail('client.clientId must be a non-empty string')
  if (secret !== undefined && explicitKey) fail('set either client.clientSecret or client.privateKey, not both')
  if (secret === undefined && !explicitKey) fail('the client needs a clientSecret (or AUTH0_CLIENT_SECRET) or a privateKey to authenticate')

  const auth: ClientAuth = { clientId }
  if (secret !== undefined) {
    if (typeof secret !== 'string' || secret === '') fail('client.clientSecret must be a non-empty string')
    const method = spec.authMethod ?? 'client_secret_post'
    if (method !== 'client_secret_post' && method !== 'client_secret_basic') fail('client.authMethod must be "client_secret_post" or "client_secret_basic"')
    auth.secret = { value: secret, method }
  } else {
    if (spec.authMethod !== undefined) fail('client.authMethod applies to a client secret; a privateKey always uses private_key_jwt')
    const alg = spec.privateKeyAlg ?? 'RS256'
    if (typeof alg !== 'string' || !ASYMMETRIC_ALGORITHMS.has(alg)) fail(`client.privateKeyAlg must be one of ${[...ASYMMETRIC_ALGORITHMS].join(', ')}`)
    const { key, kid } = await signingKey(spec.privateKey as NonNullable<ClientOptions['privateKey']>, alg)
    const assertionKid = spec.privateKeyKid ?? kid
    if (assertionKid !== undefined && (typeof assertionKid !== 'string' || assertionKid === '')) fail('client.privateKeyKid must be a non-empty string')
    auth.assertion = { key, alg, ...(assertionKid !== undefined ? { kid: assertionKid } : {}) }
    // Fails now, not on the first exchange, when the key cannot sign with this algorithm.
    try {
      await new SignJWT({}).setProtectedHeader({ alg }).sign(key)
    } catch (err) {
      fail(`client.privateKey cannot sign ${alg}: ${(err as Error).message}`)
    }
  }

  // The tenant named by domain / issuerBaseURL (validated already by resolveConfig), explicit options first.
  const explicit = options.domain !== undefined || options.issuerBaseURL !== undefined
  const tenant = explicit
    ? { domain: options.domain, issuerBaseURL: options.issuerBaseURL }
    : { domain: env.AUTH0_DOMAIN, issuerBaseURL: env.AUTH0_ISSUER_BASE_URL }
  let issuer: string
  if (spec.issuer !== undefined) {
    issuer = /^[a-z][a-z0-9+.-]*:\/\//i.test(String(spec.issuer))
      ? wrap(() => issuerFromUrl(String(spec.issuer), 'client.issuer'))
      : wrap(() => issuerFromDomain(String(spec.issuer), 'client.issuer'))
  } else if (tenant.domain !== undefined) {
    issuer = issuerFromDomain(tenant.domain, 'domain')
  } else if (tenant.issuerBaseURL !== undefined) {
    issuer = issuerFromUrl(tenant.issuerBaseURL, 'issuerBaseURL')
  } else if (config.issuers.length === 1) {
    issuer = (config.issuers[0] as { issuer: string }).issuer
  } else {
    fail('client.issuer is required when several issuers are allowed: name the tenant whose token endpoint to use')
  }
  const timeout = spec.timeout ?? 10000
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 60000) fail('client.timeout must be an integer number of milliseconds from 1 to 60000')
  return {
    auth,
    issuer,
    timeout,
    fetch: config.fetch ?? globalFetch,
    ...(spec.tokenEndpoint !== undefined ? { tokenEndpoint: endpointUrl(String(spec.tokenEndpoint), 'client.tokenEndpoint') } : {})
  }
}

function wrap<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    fail((err as Error).message)
  }
}

/** A token passed by the caller: the raw value, so a `Bearer ` prefix or stray whitespace fails here, not at the server. */
function checkToken (value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${PREFIX}${name} must be a non-empty string`)
  if (/^bearer\s/i.test(value) || /^dpop\s/i.test(value)) throw new TypeError(`${PREFIX}${name} must be the raw token, without the "Bearer "/"DPoP " prefix`)
  if (/\s/.test(value)) throw new TypeError(`${PREFIX}${name} must not contain whitespace`)
  return value
}

function checkParam (value: unknown, name: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined
  // Printable ASCII and spaces (scope lists); no control characters reach the form body.
  if (typeof value !== 'string' || value.trim() === '' || /[\x00-\x1f\x7f]/.test(value)) {
    throw new TypeError(`${PREFIX}${name} must be a non-empty string`)
  }
  return value
}

/** `value` with each credential we sent replaced, for messages built from the server's words. */
function redact (value: string, secrets: readonly string[]): string {
  let out = value
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]')
  return out
}

const OAUTH_ERROR = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/

export function createTokenExchange (client: ResolvedClient | undefined): TokenExchange {
  let endpoint: Promise<string> | undefined = client?.tokenEndpoint !== undefined ? Promise.resolve(client.tokenEndpoint) : undefined

  function configured (method: string): ResolvedClient {
    if (client === undefined) {
      throw new Error(`${PREFIX}${method} needs the API's client credentials: set the client option ({ clientId, clientSecret } or { clientId, privateKey }) or AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET`)
    }
    return client
  }

  async function discover (c: ResolvedClient): Promise<string> {
    const url = `${c.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
    let body: unknown
    try {
      ({ body } = await fetchJson(url, c.timeout, c.fetch))
    } catch (err) {
      throw new TokenEndpointError('discovery_failed', `could not read ${url}: ${(err as Error).message}`, undefined, { cause: err })
    }
    const doc = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== c.issuer.replace(/\/$/, '')) {
      throw new TokenEndpointError('discovery_failed', `discovery at ${url} names another issuer`)
    }
    const tokenEndpoint = doc.token_endpoint
    let parsed: URL | undefined
    try { parsed = new URL(String(tokenEndpoint)) } catch {}
    if (typeof tokenEndpoint !== 'string' || parsed === undefined ||
      // Client credentials travel to it: plain http only to a loopback host.
      !(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)))) {
      throw new TokenEndpointError('discovery_failed', `discovery at ${url} has no usable https token_endpoint`)
    }
    return tokenEndpoint
  }

  async function tokenEndpoint (c: ResolvedClient): Promise<string> {
    // One discovery for concurrent first calls; a failure is forgotten so the next call retries.
    endpoint ??= discover(c).catch((err: unknown) => {
      endpoint = undefined
      throw err
    })
    return await endpoint
  }

  async function clientAuthentication (c: ResolvedClient, params: URLSearchParams, headers: Record<string, string>): Promise<string[]> {
    const { clientId, secret, assertion } = c.auth
    if (secret !== undefined) {
      if (secret.method === 'client_secret_basic') {
        // RFC 6749 §2.3.1: each part form-urlencoded before base64.
        const encode = (v: string): string => encodeURIComponent(v).replace(/%20/g, '+')
        headers.authorization = `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret.value)}`).toString('base64')}`
      } else {
        params.set('client_id', clientId)
        params.set('client_secret', secret.value)
      }
      return [secret.value]
    }
    const { key, alg, kid } = assertion as NonNullable<ClientAuth['assertion']>
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg, typ: 'JWT', ...(kid !== undefined ? { kid } : {}) })
      .setIssuer(clientId)
      .setSubject(clientId)
      // RFC 7523 §3 and Auth0: the audience is the authorization server's issuer identifier.
      .setAudience(c.issuer)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(key)
    params.set('client_id', clientId)
    params.set('client_assertion_type', JWT_BEARER_ASSERTION)
    params.set('client_assertion', jwt)
    return [jwt]
  }

  async function request (c: ResolvedClient, grant: Record<string, string | undefined>, subjectToken: string): Promise<Record<string, unknown>> {
    const url = await tokenEndpoint(c)
    const params = new URLSearchParams()
    for (const [name, value] of Object.entries(grant)) if (value !== undefined) params.set(name, value)
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
    const secrets = [subjectToken, ...await clientAuthentication(c, params, headers)]

    let res: Response
    let text: string
    try {
      res = await c.fetch(url, { method: 'POST', headers, body: params, redirect: 'error', signal: AbortSignal.timeout(c.timeout) })
      const declared = Number(res.headers.get('content-length'))
      if (declared > MAX_BYTES) {
        await res.body?.cancel().catch(() => {})
        throw new TokenEndpointError('invalid_response', 'token endpoint answer too large', res.status)
      }
      text = await res.text()
    } catch (err) {
      if (err instanceof TokenEndpointError) throw err
      const timedOut = (err as Error).name === 'TimeoutError'
      throw new TokenEndpointError(timedOut ? 'timeout' : 'network_error', `${timedOut ? `no answer within ${c.timeout} ms` : 'could not reach'} ${url}`, undefined, { cause: err })
    }
    if (text.length > MAX_BYTES) throw new TokenEndpointError('invalid_response', 'token endpoint answer too large', res.status)
    let body: unknown
    try { body = JSON.parse(text) } catch {}
    const doc = typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : undefined

    if (res.status !== 200) {
      if (doc !== undefined && typeof doc.error === 'string' && OAUTH_ERROR.test(doc.error)) {
        const description = typeof doc.error_description === 'string' ? redact(doc.error_description, secrets).slice(0, 500) : undefined
        throw new TokenEndpointError(doc.error, description, res.status)
      }
      throw new TokenEndpointError('invalid_response', 'not an OAuth error response', res.status)
    }
    if (doc === undefined) throw new TokenEndpointError('invalid_response', 'answer is not a JSON object', res.status)
    if (typeof doc.access_token !== 'string' || doc.access_token === '') {
      throw new TokenEndpointError('invalid_response', 'answer has no access_token', res.status)
    }
    return doc
  }

  function tokenSet (doc: Record<string, unknown>): TokenSet {
    const set: TokenSet = { accessToken: doc.access_token as string }
    if (typeof doc.token_type === 'string') set.tokenType = doc.token_type
    if (doc.expires_in !== undefined) {
      const seconds = typeof doc.expires_in === 'string' && /^\d+$/.test(doc.expires_in) ? Number(doc.expires_in) : doc.expires_in
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw new TokenEndpointError('invalid_response', 'expires_in is not a number of seconds', 200)
      }
      set.expiresIn = seconds
      set.expiresAt = Math.floor(Date.now() / 1000) + seconds
    }
    if (typeof doc.scope === 'string') set.scope = doc.scope
    if (typeof doc.issued_token_type === 'string') set.issuedTokenType = doc.issued_token_type
    return set
  }

  return {
    async getAccessTokenForConnection (options) {
      const method = 'getAccessTokenForConnection'
      const c = configured(method)
      if (typeof options !== 'object' || options === null) throw new TypeError(`${PREFIX}${method} needs { connection, accessToken, loginHint? }`)
      const accessToken = checkToken(options.accessToken, `${method}: accessToken`)
      const connection = checkParam(options.connection, `${method}: connection`, true) as string
      const loginHint = checkParam(options.loginHint, `${method}: loginHint`, false)
      const doc = await request(c, {
        grant_type: FEDERATED_CONNECTION,
        subject_token: accessToken,
        subject_token_type: ACCESS_TOKEN,
        requested_token_type: FEDERATED_CONNECTION_TOKEN,
        connection,
        login_hint: loginHint
      }, accessToken)
      return { ...tokenSet(doc), connection, ...(loginHint !== undefined ? { loginHint } : {}) }
    },

    async getTokenByExchangeProfile (subjectToken, options) {
      const method = 'getTokenByExchangeProfile'
      const c = configured(method)
      const token = checkToken(subjectToken, `${method}: subjectToken`)
      if (typeof options !== 'object' || options === null) throw new TypeError(`${PREFIX}${method} needs { subjectTokenType, audience?, scope? }`)
      const doc = await request(c, {
        grant_type: TOKEN_EXCHANGE,
        subject_token: token,
        subject_token_type: checkParam(options.subjectTokenType, `${method}: subjectTokenType`, true),
        audience: checkParam(options.audience, `${method}: audience`, false),
        scope: checkParam(options.scope, `${method}: scope`, false),
        requested_token_type: checkParam(options.requestedTokenType, `${method}: requestedTokenType`, false),
        organization: checkParam(options.organization, `${method}: organization`, false)
      }, token)
      const set: ExchangeProfileTokenSet = tokenSet(doc)
      if (typeof doc.id_token === 'string') set.idToken = doc.id_token
      if (typeof doc.refresh_token === 'string') set.refreshToken = doc.refresh_token
      return set
    },

    async getTokenOnBehalfOf (accessToken, options) {
      const method = 'getTokenOnBehalfOf'
      const c = configured(method)
      const token = checkToken(accessToken, `${method}: accessToken`)
      if (typeof options !== 'object' || options === null) throw new TypeError(`${PREFIX}${method} needs { audience, scope? }`)
      const doc = await request(c, {
        grant_type: TOKEN_EXCHANGE,
        subject_token: token,
        subject_token_type: ACCESS_TOKEN,
        requested_token_type: ACCESS_TOKEN,
        audience: checkParam(options.audience, `${method}: audience`, true),
        scope: checkParam(options.scope, `${method}: scope`, false)
      }, token)
      // Only the access token: an on-behalf-of exchange hands out nothing longer-lived.
      return tokenSet(doc)
    }
  }
}
