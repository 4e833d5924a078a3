/**
 * Storage contracts shared by the key caches and the DPoP replay protection.
 * Both are async so one implementation can live in process and another in Redis,
 * the way @fastify/rate-limit separates its stores.
 */

/** A key/value cache for JSON documents (discovery documents, JWKS documents). */
export interface CacheAdapter {
  /** The stored value, or `undefined` when absent or expired. */
  get (key: string): Promise<unknown>
  /** Stores a JSON-serialisable value for `ttlSeconds` (> 0). */
  set (key: string, value: unknown, ttlSeconds: number): Promise<void>
  delete (key: string): Promise<void>
}

/** Remembers DPoP proof identifiers so that a proof is accepted once. */
export interface ReplayStore {
  /**
   * Atomically remembers `key` for `ttlSeconds` (> 0).
   * Resolves `true` when the key was not seen before (first use),
   * `false` when it is already remembered (a replay).
   * Rejects when the store cannot answer; callers then fail closed.
   */
  checkAndRemember (key: string, ttlSeconds: number): Promise<boolean>
  /**
   * Optional: the same answer synchronously, for a store that never waits (the in-memory one).
   * When present, the replay guard calls it instead of `checkAndRemember` and arms no timeout;
   * a store that overrides one of the two must override both.
   */
  checkAndRememberNow? (key: string, ttlSeconds: number): boolean
}
