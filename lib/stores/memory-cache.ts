/**
 * The default `CacheAdapter`: an in-process LRU. Fine for one instance; several instances that
 * should share fetched documents use a shared store such as `fastify-auth0-api/redis`.
 */
import { LruCache } from './lru.js'
import { ttlSecondsToMs } from './ttl.js'
import type { CacheAdapter } from './types.js'

export interface MemoryCacheAdapterOptions {
  /** Upper bound on cached documents. Default 200 (discovery + JWKS for 100 issuers). */
  maxEntries?: number
  /** Clock in milliseconds; injectable for tests. Default `Date.now`. */
  now?: () => number
}

export const DEFAULT_CACHE_MAX_ENTRIES = 200

/**
 * Values are stored by reference, not cloned, to keep the hot path allocation-free: callers
 * must treat what they `set` and what `get` returns as immutable.
 */
export class MemoryCacheAdapter implements CacheAdapter {
  readonly #lru: LruCache<string, unknown>

  constructor (options: MemoryCacheAdapterOptions = {}) {
    this.#lru = new LruCache({
      maxEntries: options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
      now: options.now
    })
  }

  /** Entries currently held (at most `maxEntries`). */
  get size (): number {
    return this.#lru.size
  }

  async get (key: string): Promise<unknown> {
    return this.#lru.get(key)
  }

  async set (key: string, value: unknown, ttlSeconds: number): Promise<void> {
    this.#lru.set(key, value, ttlSecondsToMs(ttlSeconds))
  }

  async delete (key: string): Promise<void> {
    this.#lru.delete(key)
  }
}
