/**
 * One `IssuerKeys` per allowed issuer, created on first use and shared by every route. Bounded:
 * with a dynamic `domains` resolver the set of issuers is open-ended, so the least recently used
 * issuer is dropped past `maxIssuers` (its documents may still be in a shared cache adapter).
 */
import type { ResolvedConfig, ResolvedIssuer } from '../config/options.js'
import { LruCache } from '../stores/lru.js'
import { DocumentCache } from './document-cache.js'
import { IssuerKeys, type KeyEvents } from './issuer-keys.js'

export class IssuerRegistry {
  readonly #config: ResolvedConfig
  readonly #events: KeyEvents
  readonly #entries: LruCache<string, IssuerKeys>
  readonly #cache: DocumentCache
  readonly #ids = new WeakMap<ResolvedIssuer, string>()

  constructor (config: ResolvedConfig, events: KeyEvents) {
    this.#config = config
    this.#events = events
    this.#entries = new LruCache({ maxEntries: config.cache.maxIssuers })
    // Without an adapter, each `IssuerKeys` is its issuer's cache: at most maxIssuers of them.
    this.#cache = new DocumentCache(config.cache.adapter, config.cache.adapterTimeout, (failure) => events.cacheFailed(failure))
  }

  keysFor (entry: ResolvedIssuer): IssuerKeys {
    // The same id string per configured entry, so its hash is computed once, not per request.
    let id = this.#ids.get(entry)
    if (id === undefined) this.#ids.set(entry, id = `${entry.issuer}\n${entry.jwksUri ?? ''}`)
    let keys = this.#entries.get(id)
    if (keys !== undefined) return keys
    const { cache, timeout, staleIfError, jwks } = this.#config
    keys = new IssuerKeys({
      issuer: entry.issuer,
      ...(entry.jwksUri !== undefined ? { jwksUri: entry.jwksUri } : {}),
      ...(jwks !== undefined ? { jwks } : {}),
      cache: this.#cache,
      timeout,
      ...(this.#config.fetch !== undefined ? { fetch: this.#config.fetch } : {}),
      ttl: cache.ttl,
      cooldown: cache.cooldown,
      failureBackoff: cache.failureBackoff,
      staleIfError,
      events: this.#events
    })
    this.#entries.set(id, keys, Infinity)
    return keys
  }
}
