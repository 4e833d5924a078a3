/**
 * Resolves plugin options against the environment (explicit option > environment variable >
 * default) and validates everything once, at start-up: a bad configuration stops `register`
 * with a message naming the option or variable, so the process never runs half-configured.
 */
import type { JSONWebKeySet } from 'jose'
import type { Auth0PluginOptions, DpopMode, IssuerEntry, DomainsResolver, KeySetEvent } from '../types.js'
import type { CacheAdapter, ReplayStore } from '../stores/types.js'
import type { Auth0Env } from './env.js'
import { issuerFromDomain, issuerFromUrl } from './issuer-url.js'
import { hmacAlgorithms, resolveSecret } from './secret.js'
import { resolveDecryption, type ResolvedDecryption } from '../jwe/options.js'

const PREFIX = 'fastify-auth0-api: '

/** Asymmetric JWS algorithms jose verifies. HMAC and `none` are never accepted. */
export const ASYMMETRIC_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'])

export interface ResolvedIssuer {
  issuer: string
  jwksUri?: string
  algorithms: readonly string[]
}

export interface ResolvedConfig {
  /** Statically allowed issuers (empty when a resolver decides). */
  issuers: readonly ResolvedIssuer[]
  domainsResolver?: DomainsResolver
  audience: readonly string[]
  algorithms: readonly string[]
  clockTolerance: number
  maxTokenLength: number
  timeout: number
  realm: string
  jwks?: JSONWebKeySet
  /** HMAC verification: the signing secret's bytes (then `algorithms` are HS* only, no JWKS). */
  secret?: Uint8Array
  /** Encrypted (JWE) access tokens: private keys and allowlists. */
  decryption?: ResolvedDecryption
  staleIfError: number
  cache: { ttl: number, maxIssuers: number, cooldown: number, failureBackoff: number, adapterTimeout: number, adapter?: CacheAdapter }
  publicBaseURL?: string
  tokenCache: false | { max: number, ttl: number }
  onKeySetEvent?: (event: KeySetEvent) => void
  dpop: {
    mode: DpopMode
    algorithms: readonly string[]
    iatOffset: number
    iatLeeway: number
    replayStore?: ReplayStore
    nonce: false | { secret?: string | Uint8Array, windowSeconds: number }
  }
}

function fail (message: string): never {
  throw new Error(PREFIX + message)
}

function seconds (value: unknown, name: string, def: number, min: number, max: number): number {
  if (value === undefined) return def
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${name} must be a number of seconds from ${min} to ${max}`)
  }
  return value
}

function count (value: unknown, name: string, def: number, max: number, unit = ''): number {
  if (value === undefined) return def
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) fail(`${name} must be an integer${unit} from 1 to ${max}`)
  return value as number
}

function cacheAdapter (adapter: unknown): CacheAdapter {
  const a = adapter as Partial<CacheAdapter> | null
  if (typeof a !== 'object' || a === null || typeof a.get !== 'function' || typeof a.set !== 'function' || typeof a.delete !== 'function') {
    fail('cache.adapter must be a CacheAdapter: an object with async get, set and delete (e.g. redisStore() from fastify-auth0-api/redis)')
  }
  return a as CacheAdapter
}

function algorithmList (value: unknown, name: string, def: readonly string[]): readonly string[] {
  if (value === undefined) return def
  if (!Array.isArray(value) || value.length === 0) fail(`${name} must be a non-empty array of algorithm names`)
  for (const alg of value) {
    if (typeof alg !== 'string') fail(`${name} must be a non-empty array of algorithm names`)
    if (alg.toLowerCase() === 'none') fail(`${name} must not contain "none": unsigned tokens are never accepted`)
    if (/^HS\d+$/i.test(alg)) {
      fail(name === 'algorithms'
        ? `algorithms must not contain ${alg} without a secret: HMAC tokens are verified only by a verifier configured with the secret option (or AUTH0_SIGNING_SECRET), which then accepts HMAC tokens only`
        : `${name} must not contain ${alg}: symmetric (HMAC) algorithms are refused, only asymmetric keys from the issuer's JWKS verify tokens`)
    }
    if (!ASYMMETRIC_ALGORITHMS.has(alg)) fail(`${name} contains unsupported algorithm "${alg}" (supported: ${[...ASYMMETRIC_ALGORITHMS].join(', ')})`)
  }
  return [...new Set(value as string[])]
}

function wrap<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    fail((err as Error).message)
  }
}

function resolveIssuers (options: Auth0PluginOptions, env: Auth0Env, algorithms: readonly string[]): ResolvedIssuer[] {
  const explicit = options.domain !== undefined || options.issuerBaseURL !== undefined
  if (options.domain !== undefined && options.issuerBaseURL !== undefined) {
    fail('set either domain or issuerBaseURL, not both')
  }
  const issuers: ResolvedIssuer[] = []
  if (explicit) {
    if (options.domain !== undefined) issuers.push({ issuer: wrap(() => issuerFromDomain(String(options.domain), 'domain')), algorithms })
    else issuers.push({ issuer: wrap(() => issuerFromUrl(String(options.issuerBaseURL), 'issuerBaseURL')), algorithms })
  } else if (env.AUTH0_DOMAIN !== undefined && env.AUTH0_ISSUER_BASE_URL !== undefined) {
    fail('set either AUTH0_DOMAIN or AUTH0_ISSUER_BASE_URL, not both')
  } else if (env.AUTH0_DOMAIN !== undefined) {
    issuers.push({ issuer: wrap(() => issuerFromDomain(env.AUTH0_DOMAIN as string, 'AUTH0_DOMAIN')), algorithms })
  } else if (env.AUTH0_ISSUER_BASE_URL !== undefined) {
    issuers.push({ issuer: wrap(() => issuerFromUrl(env.AUTH0_ISSUER_BASE_URL as string, 'AUTH0_ISSUER_BASE_URL')), algorithms })
  }
  return issuers
}

function resolveDomains (domains: Auth0PluginOptions['domains'], algorithms: readonly string[]): { list?: ResolvedIssuer[], resolver?: DomainsResolver } {
  if (domains === undefined) return {}
  if (typeof domains === 'function') return { resolver: domains }
  if (!Array.isArray(domains) || domains.length === 0) fail('domains must be a non-empty array of domains / issuer URLs, or a resolver function')
  return { list: domains.map((entry, i) => resolveIssuerEntry(entry, `domains[${i}]`, algorithms)) }
}

/** A domain, an issuer URL, or `{ issuer, jwksUri?, algorithms? }` → a validated issuer. */
export function resolveIssuerEntry (entry: string | IssuerEntry, name: string, algorithms: readonly string[]): ResolvedIssuer {
  const spec: IssuerEntry = typeof entry === 'string' ? { issuer: entry } : entry
  if (spec === null || typeof spec !== 'object' || typeof spec.issuer !== 'string' || spec.issuer === '') {
    fail(`${name} must be a domain, an issuer URL or { issuer, jwksUri?, algorithms? }`)
  }
  const issuer = wrap(() => /^[a-z][a-z0-9+.-]*:\/\//i.test(spec.issuer)
    ? issuerFromUrl(spec.issuer, name)
    : issuerFromDomain(spec.issuer, name))
  const resolved: ResolvedIssuer = { issuer, algorithms: algorithmList(spec.algorithms, `${name}.algorithms`, algorithms) }
  if (spec.jwksUri !== undefined && typeof spec.jwksUri !== 'string') fail(`${name}.jwksUri must be an https URL`)
  if (spec.jwksUri !== undefined) resolved.jwksUri = wrap(() => issuerFromUrl(spec.jwksUri as string, `${name}.jwksUri`))
  return resolved
}

function resolveAudience (options: Auth0PluginOptions, env: Auth0Env): string[] {
  const raw = options.audience ?? env.AUTH0_AUDIENCE?.split(',')
  const list = (Array.isArray(raw) ? raw : [raw]).map((a) => typeof a === 'string' ? a.trim() : a)
  if (raw === undefined || list.length === 0 || list.some((a) => typeof a !== 'string' || a === '')) {
    fail('audience is required: set the audience option or AUTH0_AUDIENCE (your API identifier, e.g. "https://api.example.com/")')
  }
  return [...new Set(list as string[])]
}

export function resolveConfig (options: Auth0PluginOptions, env: Auth0Env): ResolvedConfig {
  // With a secret the verifier is HMAC-only (lib/keys/secret-keys.ts): no key from anywhere else.
  const secret = resolveSecret(options.secret, env.AUTH0_SIGNING_SECRET)
  if (secret !== undefined) {
    if (options.domains !== undefined) fail(`${secret.name} cannot be combined with domains: an HMAC secret verifies the tokens of the one issuer named by domain or issuerBaseURL`)
    if (options.jwks !== undefined) fail(`${secret.name} cannot be combined with jwks: a verifier uses an HMAC secret or public keys, never both (remove one of them)`)
  }
  const algorithms = secret === undefined ? algorithmList(options.algorithms, 'algorithms', ['RS256']) : hmacAlgorithms(options.algorithms, secret)
  const issuers = resolveIssuers(options, env, algorithms)
  if (secret !== undefined && issuers.length === 0) fail(`${secret.name} needs the issuer its tokens name: set domain (or AUTH0_DOMAIN) or issuerBaseURL (or AUTH0_ISSUER_BASE_URL)`)
  const domains = resolveDomains(options.domains, algorithms)
  // `domains` decides verification when given; `domain` may still name the tenant for other uses.
  const allowed = domains.list ?? (domains.resolver !== undefined ? [] : issuers)
  if (allowed.length === 0 && domains.resolver === undefined && options.jwks === undefined) {
    fail('an issuer is required: set domain (or AUTH0_DOMAIN), issuerBaseURL (or AUTH0_ISSUER_BASE_URL), or domains')
  }
  if (options.jwks !== undefined) {
    if (typeof options.jwks !== 'object' || options.jwks === null || !Array.isArray(options.jwks.keys) || options.jwks.keys.length === 0) {
      fail('jwks must be a JSON Web Key Set: { keys: [ … ] } with at least one public key')
    }
    if (allowed.length === 0) fail('jwks needs the issuer its tokens name: set domain or issuerBaseURL too')
    for (const key of options.jwks.keys) {
      if ('d' in key || key.kty === 'oct') fail('jwks must hold public keys only (a private or symmetric key was given)')
    }
  }

  const mode = options.dpop?.mode ?? env.AUTH0_DPOP_MODE ?? 'allowed'
  if (!['allowed', 'required', 'disabled'].includes(mode)) fail('dpop.mode must be "allowed", "required" or "disabled"')

  const clockTolerance = seconds(options.clockTolerance, 'clockTolerance', 5, 0, 60)
  const maxTokenLength = options.maxTokenLength ?? 16384
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 256 || maxTokenLength > 65536) fail('maxTokenLength must be an integer from 256 to 65536')
  const timeout = options.timeout ?? 5000
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 60000) fail('timeout must be an integer number of milliseconds from 1 to 60000')
  const realm = options.realm ?? 'api'
  if (typeof realm !== 'string' || !/^[\x20-\x7e]*$/.test(realm)) fail('realm must be a string of printable ASCII characters')

  let publicBaseURL: string | undefined
  const base = options.publicBaseURL ?? env.AUTH0_PUBLIC_BASE_URL
  if (base !== undefined) {
    const name = options.publicBaseURL !== undefined ? 'publicBaseURL' : 'AUTH0_PUBLIC_BASE_URL'
    let url: URL
    try { url = new URL(base) } catch { fail(`${name} must be an absolute http(s) URL such as "https://api.example.com"`) }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '' || url.username !== '') {
      fail(`${name} must be an absolute http(s) URL without query, fragment or credentials`)
    }
    publicBaseURL = url.href.replace(/\/$/, '')
  }

  const tokenCacheOption = options.tokenCache ?? true
  let tokenCache: ResolvedConfig['tokenCache'] = false
  if (tokenCacheOption !== false) {
    const spec = tokenCacheOption === true ? {} : tokenCacheOption
    if (typeof spec !== 'object' || spec === null) fail('tokenCache must be true, false or { max?, ttl? }')
    const max = spec.max ?? 10000
    if (!Number.isSafeInteger(max) || max < 1 || max > 10_000_000) fail('tokenCache.max must be an integer from 1 to 10000000')
    tokenCache = { max, ttl: seconds(spec.ttl, 'tokenCache.ttl', 300, 1, 86400) }
  }

  const nonce = options.dpop?.nonce
  const config: ResolvedConfig = {
    issuers: allowed,
    audience: resolveAudience(options, env),
    algorithms,
    clockTolerance,
    maxTokenLength,
    timeout,
    realm,
    staleIfError: seconds(options.staleIfError, 'staleIfError', 3600, 0, 7 * 86400),
    tokenCache,
    cache: {
      ttl: seconds(options.cache?.ttl, 'cache.ttl', 600, 1, 86400),
      maxIssuers: count(options.cache?.maxIssuers, 'cache.maxIssuers', 100, 10000),
      cooldown: seconds(options.cache?.cooldown, 'cache.cooldown', 30, 0, 3600),
      failureBackoff: seconds(options.cache?.failureBackoff, 'cache.failureBackoff', 5, 0, 3600),
      adapterTimeout: count(options.cache?.adapterTimeout, 'cache.adapterTimeout', 500, 10000, ' number of milliseconds')
    },
    dpop: {
      mode,
      algorithms: algorithmList(options.dpop?.algorithms, 'dpop.algorithms', ['ES256']),
      iatOffset: seconds(options.dpop?.iatOffset, 'dpop.iatOffset', 300, 1, 3600),
      iatLeeway: seconds(options.dpop?.iatLeeway, 'dpop.iatLeeway', 30, 0, 300),
      nonce: nonce === undefined || nonce === false
        ? false
        : { ...(typeof nonce === 'object' && nonce.secret !== undefined ? { secret: nonce.secret } : {}), windowSeconds: seconds(typeof nonce === 'object' ? nonce.windowSeconds : undefined, 'dpop.nonce.windowSeconds', 300, 10, 3600) }
    }
  }
  if (domains.resolver !== undefined) config.domainsResolver = domains.resolver
  if (secret !== undefined) config.secret = secret.bytes
  if (options.decryption !== undefined) config.decryption = resolveDecryption(options.decryption)
  if (options.jwks !== undefined) config.jwks = options.jwks
  if (options.cache?.adapter !== undefined) config.cache.adapter = cacheAdapter(options.cache.adapter)
  if (options.onKeySetEvent !== undefined) {
    if (typeof options.onKeySetEvent !== 'function') fail('onKeySetEvent must be a function')
    config.onKeySetEvent = options.onKeySetEvent
  }
  if (options.dpop?.replayStore !== undefined) config.dpop.replayStore = options.dpop.replayStore
  if (publicBaseURL !== undefined) config.publicBaseURL = publicBaseURL
  return config
}
