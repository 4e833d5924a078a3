/**
 * The default DPoP `ReplayStore`: an in-process, bounded set of recently seen proof keys.
 *
 * Single-instance only: a proof replayed against another instance of the API is not detected;
 * several instances need a shared store such as `fastify-auth0-api/redis`.
 *
 * The cap bounds memory under a flood of distinct proofs. The price: once more than `maxEntries`
 * proofs arrive within one proof window, the oldest live entries are evicted and each of those
 * proofs could be replayed once more until it leaves the window. Raise `maxEntries` (about 100
 * bytes plus the key per entry) to widen that margin.
 */
import { LruCache } from './lru.js'
import { ttlSecondsToMs } from './ttl.js'
import type { ReplayStore } from './types.js'

export interface MemoryReplayStoreOptions {
  /** Upper bound on remembered keys. Default 100 000. */
  maxEntries?: number
  /** Clock in milliseconds; injectable for tests. Default `Date.now`. */
  now?: () => number
}

export const DEFAULT_REPLAY_MAX_ENTRIES = 100_000

export class MemoryReplayStore implements ReplayStore {
  readonly #seen: LruCache<string, true>

  constructor (options: MemoryReplayStoreOptions = {}) {
    this.#seen = new LruCache({
      maxEntries: options.maxEntries ?? DEFAULT_REPLAY_MAX_ENTRIES,
      now: options.now
    })
  }

  /** Keys currently remembered (at most `maxEntries`). */
  get size (): number {
    return this.#seen.size
  }

  async checkAndRemember (key: string, ttlSeconds: number): Promise<boolean> {
    return this.checkAndRememberNow(key, ttlSeconds)
  }

  /** `checkAndRemember`, answered synchronously (see `ReplayStore.checkAndRememberNow`). */
  checkAndRememberNow (key: string, ttlSeconds: number): boolean {
    const ttlMs = ttlSecondsToMs(ttlSeconds)
    // `peek`, not `get`: a replay must not refresh the entry's place, so eviction stays
    // oldest-first, and with one TTL for all proofs the oldest entries are the expired ones.
    if (this.#seen.peek(key) !== undefined) return false
    this.#seen.set(key, true, ttlMs)
    return true
  }
}
