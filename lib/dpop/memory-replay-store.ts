/**
 * The default `ReplayStore`: proof keys remembered in this process, bounded in time and size.
 *
 * Single instance only: a proof replayed against another instance is not seen here. Several
 * instances need a shared store (see docs/dpop.md).
 *
 * Entries are kept in insertion order in a Map; with one TTL for every proof that is also expiry
 * order, so expired entries are dropped from the front as new ones arrive (no timer). Past
 * `maxEntries` live entries the oldest is evicted: memory stays bounded under a flood of distinct
 * proofs, at the price that an evicted proof could be replayed once more within its window.
 */
import type { ReplayStore } from '../stores/types.js'

export interface MemoryReplayStoreOptions {
  /** Most keys remembered at once. Default 100 000 (a few tens of MB at most). */
  maxEntries?: number
  /** Clock in ms, for tests. Default `Date.now`. */
  now?: () => number
}

export class MemoryReplayStore implements ReplayStore {
  readonly #entries = new Map<string, number>()
  readonly #maxEntries: number
  readonly #now: () => number

  constructor (options: MemoryReplayStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error('fastify-auth0-api: MemoryReplayStore maxEntries must be a positive integer')
    this.#maxEntries = maxEntries
    this.#now = options.now ?? Date.now
  }

  /** Keys currently remembered. */
  get size (): number {
    return this.#entries.size
  }

  async checkAndRemember (key: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now()
    for (const [oldest, expiresAt] of this.#entries) {
      if (expiresAt > now) break
      this.#entries.delete(oldest)
    }
    const expiresAt = this.#entries.get(key)
    if (expiresAt !== undefined && expiresAt > now) return false
    this.#entries.delete(key)
    this.#entries.set(key, now + ttlSeconds * 1000)
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
    return true
  }
}
