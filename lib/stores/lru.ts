/**
 * A bounded LRU map with per-entry expiry. Synchronous and O(1) per operation: recency is the
 * insertion order of a `Map`, so promoting an entry is a delete + set and the least recently used
 * entry is always the first key.
 *
 * Expired entries are dropped lazily (when read, or when they reach the front and get evicted),
 * so `size` may count a few expired entries; it never exceeds `maxEntries`.
 */

export interface LruCacheOptions {
  /** Upper bound on stored entries (a positive integer). */
  maxEntries: number
  /** Clock in milliseconds; injectable for tests. Default `Date.now`. */
  now?: () => number
}

const NONE: unique symbol = Symbol('none')

interface Entry<V> {
  value: V
  expiresAt: number
}

export class LruCache<K, V> {
  readonly maxEntries: number
  readonly #now: () => number
  readonly #map = new Map<K, Entry<V>>()
  /** The most recently used key: reading it again needs no reordering (the hot-token case). */
  #newest: K | typeof NONE = NONE

  constructor (options: LruCacheOptions) {
    assertMaxEntries(options.maxEntries)
    this.maxEntries = options.maxEntries
    this.#now = options.now ?? Date.now
  }

  /** Entries currently held, expired ones not yet dropped included. */
  get size (): number {
    return this.#map.size
  }

  /** The live value for `key`, marking it most recently used; `undefined` when absent or expired. */
  get (key: K): V | undefined {
    const entry = this.#live(key)
    if (entry === undefined) return undefined
    if (key !== this.#newest) {
      this.#map.delete(key)
      this.#map.set(key, entry)
      this.#newest = key
    }
    return entry.value
  }

  /** Like `get` but leaves the recency order alone (eviction stays first-in, first-out). */
  peek (key: K): V | undefined {
    return this.#live(key)?.value
  }

  /**
   * Stores `value` for `ttlMs` milliseconds (> 0; `Infinity` never expires) as the most recently
   * used entry, evicting least recently used entries beyond `maxEntries`.
   */
  set (key: K, value: V, ttlMs: number): void {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be > 0, got ${ttlMs}`)
    // Deleting first moves an overwritten key to the most recent end.
    this.#map.delete(key)
    this.#map.set(key, { value, expiresAt: this.#now() + ttlMs })
    this.#newest = key
    if (this.#map.size > this.maxEntries) {
      // One insertion adds at most one entry over the cap, so one eviction is enough (and it is
      // never the newest: maxEntries ≥ 1).
      const oldest = this.#map.keys().next().value as K
      this.#map.delete(oldest)
    }
  }

  /** Removes `key`; `true` when it was present (expired or not). */
  delete (key: K): boolean {
    if (key === this.#newest) this.#newest = NONE
    return this.#map.delete(key)
  }

  clear (): void {
    this.#newest = NONE
    this.#map.clear()
  }

  #live (key: K): Entry<V> | undefined {
    const entry = this.#map.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.delete(key)
      return undefined
    }
    return entry
  }
}

function assertMaxEntries (maxEntries: number): void {
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`)
  }
}
