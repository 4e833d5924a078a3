/**
 * The keys of one issuer: OIDC discovery, then its JWKS, cached and shared by every route.
 *
 * We do not use jose's `createRemoteJWKSet` for the fetching: it cannot keep serving known keys
 * while the issuer is down (it throws once its cache is stale), cannot back itself with a shared
 * async cache, and reports an outage the same way as a bad token. Key *selection and import* are
 * jose's (`createLocalJWKSet`): kid/alg/kty/use matching and key-type ↔ alg checks are not ours.
 *
 * Behaviour:
 * - documents come from the `CacheAdapter` when another instance (or an earlier `IssuerKeys`)
 *   fetched them recently, else from the issuer; fetched documents are written back;
 * - one fetch in flight per issuer (concurrent requests share it);
 * - documents fresh for `ttl` (or a shorter `Cache-Control: max-age`, at least 1 s), minus a
 *   per-instance jitter of up to 10 % so instances sharing a cache do not expire together;
 * - an unknown `kid` refetches at most once per `cooldown` (counted from the last attempt of any
 *   kind); concurrent misses share the refetch;
 * - a failed or invalid refetch never discards the keys we have; past expiry they keep verifying
 *   for `staleIfError` while refreshes are retried in the background, then requests fail closed (503);
 *   a cold instance may start from a stale document of the shared cache during an outage;
 * - discovery unreachable but the JWKS URL known: the JWKS is still fetched;
 * - after a failure, no new attempt for `failureBackoff` (a down issuer is not hammered).
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWSHeaderParameters, type CryptoKey } from 'jose'
import { InternalAuthError, IssuerUnavailableError } from '../errors.js'
import { isLoopbackHost } from '../config/issuer-url.js'
import type { CacheFailure, CachedDocument, DocumentCache } from './document-cache.js'
import { fetchJson, IssuerFetchError, type FetchLike } from './fetch-json.js'

export type KeyDocument = 'discovery' | 'jwks'

export interface KeyEvents {
  /** A discovery or JWKS document was fetched from the issuer. */
  fetched (info: { issuer: string, url: string, document: KeyDocument }): void
  /** A fetch failed; known keys (if any) remain in use. */
  fetchFailed (info: { issuer: string, url: string, document: KeyDocument, error: Error }): void
  /** Keys past their expiry served because the issuer is unreachable (once per failed attempt). */
  stale (info: { issuer: string, expiredSeconds: number }): void
  /** The cache adapter failed or timed out; the in-process state and the network were used instead. */
  cacheFailed (info: CacheFailure): void
  /** A token named a key that cannot verify anything (see `IssuerKeys.reportUnusable`). */
  keyUnusable (info: { issuer: string, kid: string | undefined, alg: string, reason: string }): void
}

export interface IssuerKeysOptions {
  /** Allowed issuer as configured (may differ from the discovered one by a trailing slash). */
  issuer: string
  /** Fixed JWKS URL: no discovery; tokens must name `issuer` exactly. */
  jwksUri?: string
  /** Static key set: no cache, no network at all. */
  jwks?: JSONWebKeySet
  /** Discovery and JWKS documents shared through the `CacheAdapter`. */
  cache: DocumentCache
  timeout: number
  /** Outbound `fetch` (the plugin's `fetch` option). Default: the global one. */
  fetch?: FetchLike
  ttl: number
  cooldown: number
  failureBackoff: number
  staleIfError: number
  events: KeyEvents
  /** Clock in ms, for tests that must not wait. */
  now?: () => number
}

type Selector = ReturnType<typeof createLocalJWKSet>

interface KeySet {
  document: CachedDocument
  select: Selector
}

interface Discovered {
  issuer: string
  jwksUri: string
}

/** `max-age=0` counts as this much: under load, a document that is never fresh would be refetched back to back. */
export const MIN_FRESH_SECONDS = 1

function isKeySetBody (body: unknown): body is JSONWebKeySet {
  return typeof body === 'object' && body !== null && Array.isArray((body as JSONWebKeySet).keys) &&
    (body as JSONWebKeySet).keys.length > 0 && (body as JSONWebKeySet).keys.every((k) => typeof k === 'object' && k !== null)
}

export class IssuerKeys {
  /** The issuer tokens must name exactly: the discovered one once discovery ran. */
  issuer: string
  /** Changes whenever the key set is replaced by a different one (verified-token caches key on it). */
  version = 0
  readonly #options: IssuerKeysOptions
  readonly #now: () => number
  /** This instance's share of the expiry jitter (0–10 %), fixed so that it judges cached documents consistently. */
  readonly #jitter = Math.random() * 0.1
  #select: Selector | undefined
  /** The installed JWKS, serialised, to recognise an unchanged document. */
  #installed: string | undefined
  #fetchedAt = -Infinity
  #expiresAt = 0
  #jwksUri: string | undefined
  #discoveryExpiresAt = -Infinity
  #lastAttempt = -Infinity
  #failedAt = -Infinity
  #staleReported = -Infinity
  #inflight: Promise<void> | undefined
  /** Unusable keys already reported (`reportUnusable`). */
  readonly #unusable = new Set<string>()

  constructor (options: IssuerKeysOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.issuer = options.issuer
    if (options.jwks !== undefined) {
      this.#select = createLocalJWKSet(options.jwks)
      this.#expiresAt = Infinity
    }
  }

  /**
   * Tells the operator, once per key (issuer, kid, alg, reason), that tokens name a key of this
   * issuer that cannot verify anything. Bounded: a key set holds few keys, a flood of forged kids
   * never reaches here (only keys jose selected from the set do).
   */
  reportUnusable (kid: string | undefined, alg: string, reason: string): void {
    const id = `${kid ?? ''} ${alg} ${reason}`
    if (this.#unusable.has(id) || this.#unusable.size >= 100) return
    this.#unusable.add(id)
    this.#options.events.keyUnusable({ issuer: this.issuer, kid, alg, reason })
  }

  /** Keys loaded and not past their expiry: `getKey` would neither fetch nor refresh. */
  get fresh (): boolean {
    return this.#select !== undefined && this.#now() < this.#expiresAt
  }

  /** The key that verifies a token with this header. Throws jose's JWKSNoMatchingKey when none. */
  async getKey (header: JWSHeaderParameters): Promise<CryptoKey> {
    if (this.#select === undefined || this.#now() >= this.#expiresAt) await this.#usable()
    try {
      return await (this.#select as Selector)(header)
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || this.#options.jwks !== undefined) throw err
      return await this.#afterMiss(header, err)
    }
  }

  /** Makes sure some keys may be used now: fresh, or stale within `staleIfError`. */
  async #usable (): Promise<void> {
    if (this.#select !== undefined && this.#withinStale()) {
      // Past expiry: serve what we have now and refresh behind the request.
      this.#refresh().catch(() => this.#reportStale())
      return
    }
    try {
      await this.#refresh()
    } catch (err) {
      // A cold instance may have been handed a stale document from the shared cache.
      if (this.#select === undefined || !this.#withinStale()) throw err
      this.#reportStale()
    }
  }

  /** An unknown kid may be a rotation: refetch at most once per cooldown; concurrent misses share it. */
  async #afterMiss (header: JWSHeaderParameters, miss: Error): Promise<CryptoKey> {
    if (this.#inflight !== undefined) {
      // A refresh already running may bring the key; if not, go on like any other miss.
      await this.#inflight.catch(() => {})
      try {
        return await (this.#select as Selector)(header)
      } catch {}
    }
    if (this.#inflight === undefined && this.#now() - this.#lastAttempt < this.#options.cooldown * 1000) throw miss
    // Starts the refetch, or joins the one a concurrent miss has just started.
    await this.#refresh({ kid: header.kid })
    return await (this.#select as Selector)(header)
  }

  #withinStale (): boolean {
    return this.#now() - this.#expiresAt <= this.#options.staleIfError * 1000
  }

  #reportStale (): void {
    // Once per failed attempt (at most one per failureBackoff), not once per request.
    if (this.#staleReported === this.#failedAt || this.#now() < this.#expiresAt) return
    this.#staleReported = this.#failedAt
    this.#options.events.stale({ issuer: this.issuer, expiredSeconds: Math.floor((this.#now() - this.#expiresAt) / 1000) })
  }

  #refresh (miss?: { kid: string | undefined }): Promise<void> {
    if (this.#inflight !== undefined) return this.#inflight
    const wait = this.#failedAt + this.#options.failureBackoff * 1000 - this.#now()
    if (wait > 0) {
      return Promise.reject(new IssuerUnavailableError('issuer_unavailable', 'authorization server unreachable, retry later', Math.ceil(wait / 1000)))
    }
    this.#inflight = this.#load(miss).finally(() => { this.#inflight = undefined })
    return this.#inflight
  }

  async #load (miss: { kid: string | undefined } | undefined): Promise<void> {
    this.#lastAttempt = this.#now()
    let url = this.#discoveryUrl()
    let document: KeyDocument = 'discovery'
    let fallback: KeySet | undefined
    try {
      url = await this.#locateJwks()
      document = 'jwks'
      const key = `jwks:${url}`
      const cached = this.#cachedKeySet(await this.#options.cache.get(key), url)
      if (cached !== undefined) {
        const fresh = this.#now() < this.#expiry(cached.document)
        // After an unknown kid, a cached set helps only if it is newer than ours and has that kid
        // (another instance refetched after a rotation); otherwise ask the issuer.
        if (fresh && (miss === undefined || (cached.document.fetchedAt > this.#fetchedAt && hasKid(cached.document.body, miss.kid)))) {
          this.#install(cached)
          return
        }
        fallback = cached
      }
      const { body, maxAge } = await fetchJson(url, this.#options.timeout, this.#options.fetch)
      const fetched = this.#keySet({ body, fetchedAt: this.#now(), ttl: this.#freshFor(maxAge) }, url)
      this.#options.cache.set(key, fetched.document, fetched.document.ttl + this.#options.staleIfError)
      this.#options.events.fetched({ issuer: this.issuer, url, document })
      this.#install(fetched)
      this.#failedAt = -Infinity
    } catch (err) {
      this.#failedAt = this.#now()
      this.#options.events.fetchFailed({ issuer: this.issuer, url, document, error: err as Error })
      // A shared document newer than ours (or the first we get) is better than nothing while the issuer is down.
      if (fallback !== undefined && fallback.document.fetchedAt > this.#fetchedAt) this.#install(fallback)
      if (err instanceof InternalAuthError) throw err
      throw new IssuerUnavailableError('issuer_unavailable', 'authorization server unreachable, retry later', Math.max(1, Math.ceil(this.#options.failureBackoff)), { cause: err })
    }
  }

  /** The JWKS URL: configured, or from discovery (cache, then network, then the last one known). */
  async #locateJwks (): Promise<string> {
    if (this.#options.jwksUri !== undefined) return this.#options.jwksUri
    if (this.#jwksUri !== undefined && this.#now() < this.#discoveryExpiresAt) return this.#jwksUri
    const key = `discovery:${this.#options.issuer}`
    const url = this.#discoveryUrl()
    let known: Discovered | undefined = this.#jwksUri !== undefined ? { issuer: this.issuer, jwksUri: this.#jwksUri } : undefined
    const cached = await this.#options.cache.get(key)
    const fromCache = cached === undefined ? undefined : this.#tryDiscovered(cached.body, url)
    if (fromCache !== undefined) {
      if (this.#now() < this.#expiry(cached as CachedDocument)) return this.#useDiscovery(fromCache, cached as CachedDocument)
      known ??= fromCache
    }
    try {
      const { body, maxAge } = await fetchJson(url, this.#options.timeout, this.#options.fetch)
      const found = this.#discovered(body, url)
      const document: CachedDocument = { body: { issuer: found.issuer, jwks_uri: found.jwksUri }, fetchedAt: this.#now(), ttl: this.#freshFor(maxAge) }
      this.#options.cache.set(key, document, document.ttl + this.#options.staleIfError)
      this.#options.events.fetched({ issuer: this.issuer, url, document: 'discovery' })
      return this.#useDiscovery(found, document)
    } catch (err) {
      if (known === undefined || err instanceof InternalAuthError) throw err
      // Discovery is unreachable but we know where the keys are: go on to the JWKS.
      this.#options.events.fetchFailed({ issuer: this.issuer, url, document: 'discovery', error: err as Error })
      this.issuer = known.issuer
      this.#jwksUri = known.jwksUri
      return known.jwksUri
    }
  }

  #useDiscovery (found: Discovered, document: CachedDocument): string {
    this.issuer = found.issuer
    this.#jwksUri = found.jwksUri
    this.#discoveryExpiresAt = this.#expiry(document)
    return found.jwksUri
  }

  #install (set: KeySet): void {
    const serialised = JSON.stringify(set.document.body)
    // An unchanged key set keeps its imported keys, and its `version`.
    if (serialised !== this.#installed) {
      this.#select = set.select
      this.#installed = serialised
      this.version++
    }
    this.#fetchedAt = set.document.fetchedAt
    this.#expiresAt = this.#expiry(set.document)
  }

  #expiry (document: CachedDocument): number {
    return document.fetchedAt + document.ttl * 1000 * (1 - this.#jitter)
  }

  #freshFor (maxAge: number | undefined): number {
    const ttl = this.#options.ttl
    return maxAge === undefined ? ttl : Math.min(ttl, Math.max(maxAge, MIN_FRESH_SECONDS))
  }

  /** A usable key set from a document; throws an `IssuerFetchError` saying what is wrong. */
  #keySet (document: CachedDocument, url: string): KeySet {
    if (!isKeySetBody(document.body)) throw new IssuerFetchError('bad_json', `no usable "keys" in the JWKS at ${url}`)
    try {
      return { document, select: createLocalJWKSet(document.body) }
    } catch (err) {
      throw new IssuerFetchError('bad_json', `invalid JWKS at ${url}`, { cause: err })
    }
  }

  /** A cached document that is not a usable key set is a miss. */
  #cachedKeySet (document: CachedDocument | undefined, url: string): KeySet | undefined {
    try {
      return document === undefined ? undefined : this.#keySet(document, url)
    } catch {
      return undefined
    }
  }

  #discoveryUrl (): string {
    return `${this.#options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  }

  #tryDiscovered (body: unknown, url: string): Discovered | undefined {
    try {
      return this.#discovered(body, url)
    } catch {
      return undefined
    }
  }

  /** Checks a discovery document: it must name our issuer and an https `jwks_uri`. */
  #discovered (body: unknown, url: string): Discovered {
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
    return { issuer, jwksUri }
  }
}

function hasKid (body: unknown, kid: string | undefined): boolean {
  return kid !== undefined && (body as JSONWebKeySet).keys.some((key) => key.kid === kid)
}
