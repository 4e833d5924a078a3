/**
 * The `client` option (and `AUTH0_CLIENT_*`): which credentials the API presents at the token
 * endpoint, and of which issuer. Checked in full at start-up, the private key imported and tried
 * once, so that a misconfiguration stops `register` instead of the first exchange.
 */
import type { KeyObject } from 'node:crypto'
import { importJWK, importPKCS8, SignJWT, type CryptoKey } from 'jose'
import type { Auth0Env } from '../config/env.js'
import { issuerFromDomain, issuerFromUrl, isLoopbackHost } from '../config/issuer-url.js'
import { ASYMMETRIC_ALGORITHMS, type ResolvedConfig } from '../config/options.js'
import type { Auth0PluginOptions } from '../types.js'
import type { ClientOptions } from './types.js'

export const PREFIX = 'fastify-auth0-api: '
const KEYS = new Set(['clientId', 'clientSecret', 'authMethod', 'privateKey', 'privateKeyAlg', 'privateKeyKid', 'issuer', 'tokenEndpoint', 'timeout'])

function fail (message: string): never {
  throw new Error(PREFIX + message)
}

export type Signer = CryptoKey | KeyObject | Uint8Array

export interface ClientAuth {
  clientId: string
  secret?: { value: string, method: 'client_secret_post' | 'client_secret_basic' }
  assertion?: { key: Signer, alg: string, kid?: string }
}

export interface ResolvedClient {
  auth: ClientAuth
  issuer: string
  tokenEndpoint?: string
  timeout: number
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

/** The credentials: a client secret (post or basic), or a private key for JWT assertions, tried once. */
async function clientAuth (spec: ClientOptions, env: Auth0Env): Promise<ClientAuth> {
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
  return auth
}

/** The issuer whose token endpoint is used: `client.issuer`, else the tenant, else the only allowed issuer. */
function clientIssuer (spec: ClientOptions, options: Auth0PluginOptions, env: Auth0Env, config: ResolvedConfig): string {
  // The tenant named by domain / issuerBaseURL (validated already by resolveConfig), explicit options first.
  const explicit = options.domain !== undefined || options.issuerBaseURL !== undefined
  const tenant = explicit
    ? { domain: options.domain, issuerBaseURL: options.issuerBaseURL }
    : { domain: env.AUTH0_DOMAIN, issuerBaseURL: env.AUTH0_ISSUER_BASE_URL }
  if (spec.issuer !== undefined) {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(String(spec.issuer))
      ? wrap(() => issuerFromUrl(String(spec.issuer), 'client.issuer'))
      : wrap(() => issuerFromDomain(String(spec.issuer), 'client.issuer'))
  }
  if (tenant.domain !== undefined) return issuerFromDomain(tenant.domain, 'domain')
  if (tenant.issuerBaseURL !== undefined) return issuerFromUrl(tenant.issuerBaseURL, 'issuerBaseURL')
  if (config.issuers.length === 1) return (config.issuers[0] as { issuer: string }).issuer
  fail('client.issuer is required when several issuers are allowed: name the tenant whose token endpoint to use')
}

/** Reads and checks the `client` option (and `AUTH0_CLIENT_*`); `undefined` when no client is configured. */
export async function resolveClient (options: Auth0PluginOptions, env: Auth0Env, config: ResolvedConfig): Promise<ResolvedClient | undefined> {
  const option = options.client
  // Its type (an object) was checked with the other top-level options (`checkPluginOptions`).
  // From the environment only as a pair: a lone AUTH0_CLIENT_SECRET (say, of a web login in the
  // same process) neither configures the client nor stops the API.
  if (option === undefined && (env.AUTH0_CLIENT_ID === undefined || env.AUTH0_CLIENT_SECRET === undefined)) return undefined
  const spec: ClientOptions = option ?? {}
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) fail(`client: unknown option "${key}" (known: ${[...KEYS].join(', ')})`)
  }
  const auth = await clientAuth(spec, env)
  const issuer = clientIssuer(spec, options, env, config)
  const timeout = spec.timeout ?? 10000
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 60000) fail('client.timeout must be an integer number of milliseconds from 1 to 60000')
  return {
    auth,
    issuer,
    timeout,
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
