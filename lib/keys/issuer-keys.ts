/**
 * The keys of one issuer: OIDC discovery, then its JWKS, cached and shared by every route.
 *
 * We do not use jose's `createRemoteJWKSet` for the fetching: it cannot keep serving known keys
 * while the issuer is down (it throws once its cache is stale), cannot back itself with a shared
 * async cache, and reports an outage the same way as a bad token. Key *selection and import* are
 * jose's (`createLocalJWKSet`): kid/alg/kty/use matching and key-type ↔ alg checks are not ours.
 *
 * Behaviour:
 * - one fetch in flight per issuer (concurrent requests share it);
 * - documents fresh for `ttl` (or a shorter `Cache-Control: max-age`), with jitter so instances
 *   do not expire together;
 * - an unknown `kid` refetches at most once per `cooldown`;
 * - a failed or invalid refetch never discards the keys we have; past expiry they keep verifying
 *   for `staleIfError` while refreshes are retried in the background, then requests fail closed (503);
 * - after a failure, no new attempt for `failureBackoff` (a down issuer is not hammered).
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWSHeaderParameters, type CryptoKey } from 'jose'
import { InternalAuthError, IssuerUnavailableError } from '../errors.js'
import { isLoopbackHost } from '../config/issuer-url.js'
import { fetchJson, IssuerFetchError } from './fetch-json.js'

export interface KeyEvents {
  /** A discovery or JWKS document was fetched. */
  fetched (info: { issuer: string, url: string, document: 'discovery' | 'jwks' }): void
  /** A fetch failed; known keys (if any) remain in use. */
  fetchFailed (info: { issuer: string, url: string, error: Error }): void
  /** Keys past their expiry served because the issuer is unreachable. */
  stale (info: { issuer: string, expiredSeconds: number }): void
}

export interface IssuerKeysOptions {
  /** Allowed issuer as configured (may differ from the discovered one by a trailing slash). */
  issuer: string
  /** Fixed JWKS URL: no discovery. */
  jwksUri?: string
  /** Static key set: no network at all. */
  jwks?: JSONWebKeySet
  timeout: number
  ttl: number
  cooldown: number
  failureBackoff: number
  staleIfError: number
  events: KeyEvents
  /** Clock in ms, for tests that must not wait. */
  now?: () => number
}

type Selector = ReturnType<typeof createLocalJWKSet>

function isKeySet (body: unknown): body is JSONWebKeySet {
  return typeof body === 'object' && body !== null && Array.isArray((body as JSONWebKeySet).keys) &&
    (body as JSONWebKeySet).keys.length > 0 && (body as JSONWebKeySet).keys.every((k) => typeof k === 'object' && k !== null)
}

export class IssuerKeys {
  /** The issuer tokens must name exactly: the discovered one once discovery ran. */
  issuer: string
  /** Changes whenever the key set is replaced (verified-token caches key on it). */
  version = 0
  readonly #options: IssuerKeysOptions
  readonly #now: () => number
  #select: Selector | undefined
  #jwksUri: string | undefined
  #discoveredAt = -Infinity
  #expiresAt = 0
  #lastAttempt = -Infinity
  #failedAt = -Infinity
  #inflight: Promise<void> | undefined

  constructor (options: IssuerKeysOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.issuer = options.issuer
    this.#jwksUri = options.jwksUri
    if (options.jwks !== undefined) {
      this.#select = createLocalJWKSet(options.jwks)
      this.#expiresAt = Infinity
    }
  }

  /** Keys loaded and not past their expiry: `getKey` would neither fetch nor refresh. */
  get fresh (): boolean {
    return this.#select !== undefined && this.#now() < this.#expiresAt
  }

  /** The key that verifies a token with this header. Throws jose's JWKSNoMatchingKey when none. */
  async getKey (header: JWSHeaderParameters): Promise<CryptoKey> {
    const now = this.#now()
    if (this.#select === undefined) {
      await this.#refresh()
    } else if (now >= this.#expiresAt) {
      const expiredFor = now - this.#expiresAt
      if (expiredFor <= this.#options.staleIfError * 1000) {
        // Serve what we have now; refresh behind the request.
        this.#refresh().catch(() => {})
        if (this.#failedAt > this.#expiresAt) this.#options.events.stale({ issuer: this.issuer, expiredSeconds: Math.floor(expiredFor / 1000) })
      } else {
        await this.#refresh()
      }
    }
    const select = this.#select as Selector
    try {
      return await select(header)
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || this.#options.jwks !== undefined) throw err
      // An unknown kid may be a rotation: refetch, at most once per cooldown.
      if (this.#inflight === undefined && this.#now() - this.#lastAttempt < this.#options.cooldown * 1000) throw err
      await this.#refresh()
      return await (this.#select as Selector)(header)
    }
  }

  #refresh (): Promise<void> {
    if (this.#inflight !== undefined) return this.#inflight
    const wait = this.#failedAt + this.#options.failureBackoff * 1000 - this.#now()
    if (wait > 0) {
      return Promise.reject(new IssuerUnavailableError('issuer_unavailable', 'authorization server unreachable, retry later', Math.ceil(wait / 1000)))
    }
    this.#inflight = this.#load().finally(() => { this.#inflight = undefined })
    return this.#inflight
  }

  async #load (): Promise<void> {
    this.#lastAttempt = this.#now()
    const rediscover = this.#options.jwksUri === undefined && this.#options.jwks === undefined &&
      this.#lastAttempt - this.#discoveredAt >= this.#options.ttl * 1000
    let url = rediscover ? this.#discoveryUrl() : this.#jwksUri as string
    try {
      if (rediscover) {
        this.#jwksUri = await this.#discover(url)
        this.#discoveredAt = this.#lastAttempt
        url = this.#jwksUri
      }
      const { body, maxAge } = await fetchJson(url, this.#options.timeout)
      if (!isKeySet(body)) throw new IssuerFetchError('bad_json', `no usable "keys" in the JWKS at ${url}`)
      let select: Selector
      try {
        select = createLocalJWKSet(body)
      } catch (err) {
        throw new IssuerFetchError('bad_json', `invalid JWKS at ${url}`, { cause: err })
      }
      this.#options.events.fetched({ issuer: this.issuer, url, document: 'jwks' })
      this.#select = select
      this.version++
      this.#failedAt = -Infinity
      const ttl = Math.min(this.#options.ttl, maxAge ?? Infinity)
      // Up to 10% jitter so that several instances do not all refetch at the same moment.
      this.#expiresAt = this.#now() + ttl * 1000 * (1 - Math.random() * 0.1)
    } catch (err) {
      this.#failedAt = this.#now()
      if (err instanceof InternalAuthError) throw err
      this.#options.events.fetchFailed({ issuer: this.issuer, url, error: err as Error })
      throw new IssuerUnavailableError('issuer_unavailable', 'authorization server unreachable, retry later', Math.max(1, Math.ceil(this.#options.failureBackoff)), { cause: err })
    }
  }

  #discoveryUrl (): string {
    return `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  }

  /** Fetches discovery; returns the JWKS URL and pins the exact issuer. */
  async #discover (url: string): Promise<string> {
    const { body } = await fetchJson(url, this.#options.timeout)
    const doc = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    const configured = this.#options.issuer
    const issuer = doc.issuer
    // The document must name the issuer we were configured with (a trailing slash aside, for URLs
    // configured without one); tokens must then name the discovered issuer exactly.
    if (typeof issuer !== 'string' || (issuer !== configured && issuer !== configured.replace(/\/$/, '') && issuer !== `${configured}/`)) {
      throw new InternalAuthError('discovery_issuer_mismatch', {
        cause: new Error(`discovery at ${url} names issuer ${JSON.stringify(issuer)}, expected ${JSON.stringify(configured)}`)
      })
    }
    const jwksUri = doc.jwks_uri
    let parsed: URL | undefined
    try { parsed = new URL(String(jwksUri)) } catch {}
    if (typeof jwksUri !== 'string' || parsed === undefined ||
      !(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(new URL(issuer).hostname)))) {
      throw new IssuerFetchError('bad_json', `discovery at ${url} has no usable https jwks_uri`)
    }
    this.#options.events.fetched({ issuer: this.issuer, url, document: 'discovery' })
    this.issuer = issuer
    return jwksUri
  }
}
