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
import type { FetchLike } from '../keys/fetch-json.js'
import { resolveTokenSources, type ResolvedTokenSources } from '../http/token-sources.js'
import { resolveMtls, type ResolvedMtls } from '../mtls/options.js'
import { compileOrganization, type OrganizationPolicy } from '../policies/organization.js'
import { resolveProfile, type ResolvedProfile } from '../policies/profile.js'
import { resolveStepUp, type ResolvedStepUp } from '../policies/step-up.js'
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
  /** Token profile, `requiredClaims`, `maxTokenAge` (lib/policies/profile.ts). */
  profile: ResolvedProfile
  /** Claims holding the login's `acr` and `auth_time` (lib/policies/step-up.ts). */
  stepUp: ResolvedStepUp
  /** The plugin-wide organization policy, when set. */
  organization?: OrganizationPolicy
  dpop: {
    mode: DpopMode
    algorithms: readonly string[]
    iatOffset: number
    iatLeeway: number
    replayStore?: ReplayStore
    nonce: false | { secret?: string | Uint8Array, windowSeconds: number }
  }
  /** Token sources of every route that names none; `undefined`: the Authorization header only. */
  tokenSources?: ResolvedTokenSources
  /** Certificate-bound tokens (RFC 8705); `undefined`: refused as `binding_unsupported`. */
  mtls?: ResolvedMtls
  /** Outbound `fetch`; `undefined`: the global one. */
  fetch?: FetchLike
}

function fail (message: string): never {
  throw new Error(PREFIX + message)
}

/** What a top-level option must be, as a start-up error says it, and the check of its type. */
interface OptionType {
  /** "a string", "a function" … (after "must be"). */
  expected: string
  check (value: unknown): boolean
}

const isString = (v: unknown): boolean => typeof v === 'string'
const isBoolean = (v: unknown): boolean => typeof v === 'boolean'
const isFunction = (v: unknown): boolean => typeof v === 'function'
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v)
const isNumber = (v: unknown): boolean => typeof v === 'number'
const type = (expected: string, check: (v: unknown) => boolean): OptionType => ({ expected, check })
const FUNCTION = type('a function', isFunction)
const BOOLEAN_OR_OBJECT = type('true, false or an options object', (v) => isBoolean(v) || isObject(v))

/**
 * Every top-level plugin option, with the type it must have: the one list of known options. A key
 * not listed here is a start-up error naming the closest known option; a value of another type is
 * a start-up error naming the type expected (ranges and formats are checked after, by
 * `resolveConfig` and the feature modules). `satisfies` makes the list exhaustive: an option added
 * to `Auth0PluginOptions` without an entry here (or an entry for no option) fails to compile.
 */
export const PLUGIN_OPTIONS = {
  domain: type('a bare host name string', isString),
  issuerBaseURL: type('an issuer URL string', isString),
  domains: type('an array of domains / issuer URLs, or a resolver function', (v) => Array.isArray(v) || isFunction(v)),
  audience: type('a string or an array of strings', (v) => isString(v) || (Array.isArray(v) && v.every(isString))),
  algorithms: type('an array of algorithm names', (v) => Array.isArray(v) && v.every(isString)),
  clockTolerance: type('a number of seconds', isNumber),
  maxTokenLength: type('an integer', isNumber),
  dpop: type('an options object ({ mode?, algorithms?, … })', isObject),
  publicBaseURL: type('a URL string', isString),
  cache: type('an options object ({ ttl?, maxIssuers?, … })', isObject),
  staleIfError: type('a number of seconds', isNumber),
  jwks: type('a JSON Web Key Set object ({ keys: [ … ] })', isObject),
  secret: type('a string (used as its UTF-8 bytes) or a Buffer / Uint8Array', (v) => isString(v) || v instanceof Uint8Array),
  decryption: type('an options object ({ keys: [{ privateKey, kid? }], algorithms?, encryption?, required? })', isObject),
  tokenCache: type('true, false or { max?, ttl? }', (v) => isBoolean(v) || isObject(v)),
  onKeySetEvent: FUNCTION,
  timeout: type('a number of milliseconds', isNumber),
  realm: type('a string', isString),
  env: type('an object of environment variables (like process.env)', isObject),
  resourceMetadata: BOOLEAN_OR_OBJECT,
  openapi: BOOLEAN_OR_OBJECT,
  onAuthError: FUNCTION,
  errorResponse: FUNCTION,
  client: type('an options object', isObject),
  tokenSources: type("an array of 'header', 'query', 'body' and { cookie: name }", Array.isArray),
  mtls: BOOLEAN_OR_OBJECT,
  fetch: FUNCTION,
  profile: type('"any" or "rfc9068"', isString),
  maxTokenAge: type('an integer number of seconds from 1 to 31536000', isNumber),
  requiredClaims: type('an array of claim names', Array.isArray),
  stepUp: type('{ acrClaim?, authTimeClaim? }', isObject),
  organization: type('true, an organization id or name, a non-empty list of them, or a function', (v) => v === true || isString(v) || Array.isArray(v) || isFunction(v))
} as const satisfies { readonly [K in keyof Required<Auth0PluginOptions>]: OptionType }

/** Options Fastify's `register` itself reads: not ours to refuse. */
const FASTIFY_REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])

/** Levenshtein distance, for "did you mean". */
function distance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] as number
}

/** The known option closest to `name` (case ignored), if it is close enough to be a typo. */
export function closestOption (name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) { best = candidate; bestDistance = d }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

function typeName (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) {
    const odd = value.find((item) => typeof item !== 'string')
    return odd === undefined ? 'an array' : `an array holding ${typeName(odd)}`
  }
  return typeof value
}

/**
 * Refuses an unknown top-level key (naming the closest known option) and a value of the wrong type
 * (naming the type expected). `undefined` counts as not set.
 */
export function checkPluginOptions (options: unknown): void {
  if (!isObject(options)) fail(`options must be an object, got ${typeName(options)}`)
  const known = Object.keys(PLUGIN_OPTIONS)
  for (const [name, value] of Object.entries(options as Record<string, unknown>)) {
    if (FASTIFY_REGISTER_OPTIONS.has(name)) continue
    const spec = (PLUGIN_OPTIONS as Record<string, OptionType>)[name]
    if (spec === undefined) {
      const close = closestOption(name, known)
      fail(`unknown option "${name}"${close === undefined ? ` (known: ${known.join(', ')})` : `: did you mean ${close}?`}`)
    }
    if (value !== undefined && !spec.check(value)) fail(`${name} must be ${spec.expected} (got ${typeName(value)})`)
  }
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
  if (domains.length === 0) fail('domains must be a non-empty array of domains / issuer URLs, or a resolver function')
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
  // The type was checked with the other options (`checkPluginOptions`): strings only.
  const list = (Array.isArray(raw) ? raw : [raw]).map((a) => a?.trim())
  if (raw === undefined || list.length === 0 || list.some((a) => a === '')) {
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
    if (!Array.isArray(options.jwks.keys) || options.jwks.keys.length === 0) {
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
  if (!/^[\x20-\x7e]*$/.test(realm)) fail('realm must be a string of printable ASCII characters')

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
    profile: resolveProfile(options),
    stepUp: resolveStepUp(options.stepUp, fail),
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
  if (options.onKeySetEvent !== undefined) config.onKeySetEvent = options.onKeySetEvent
  if (options.dpop?.replayStore !== undefined) config.dpop.replayStore = options.dpop.replayStore
  if (publicBaseURL !== undefined) config.publicBaseURL = publicBaseURL
  if (options.tokenSources !== undefined) {
    const sources = resolveTokenSources(options.tokenSources, 'tokenSources', fail)
    // RFC 9449 §7.1: a DPoP token travels in the Authorization header only.
    if (!sources.headerOnly && mode === 'required') fail('tokenSources other than the header cannot be combined with dpop.mode "required" (DPoP tokens travel only in the Authorization header)')
    if (!sources.headerOnly) config.tokenSources = sources
  }
  const mtls = resolveMtls(options.mtls, fail)
  if (mtls !== undefined) config.mtls = mtls
  // Its type (a function) is checked with every top-level option's, above.
  if (options.fetch !== undefined) config.fetch = options.fetch
  if (options.organization !== undefined) config.organization = compileOrganization(options.organization, 'organization', fail)
  return config
}
