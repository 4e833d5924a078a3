/**
 * Verified-token cache: the claims of tokens that passed a full verification. An entry is found
 * by a 32-bit fingerprint of the token's last 32 characters (signature bytes) and returned only
 * when the whole stored token string equals the presented one (`===`: every character compared),
 * so no other token, however much it shares with a cached one, can ever read an entry. Keying a
 * `Map` by the token string itself would do the same but hash ~1 KB per request (≈ 1 µs, more
 * than the rest of a cache hit); two valid tokens that share a fingerprint only evict each other.
 * An entry lives until the token's `exp` at most, and at most `ttl` seconds; it is bound to the
 * key-set version it was verified with, so a key set replaced (rotation, refetch) drops it. It is
 * only a shortcut for the signature and claim checks: the caller still runs every per-request
 * check (issuer policy, algorithm, time, DPoP, scopes) on each use.
 *
 * A token is remembered from its second full verification on: one-off tokens (a client fetching
 * a token per request) would only churn the cache, and keeping them costs more than verifying
 * them. The doorkeeper that counts sightings holds fingerprints, never claims: a collision only
 * lets a token in one verification early.
 */
import { LruCache } from '../stores/lru.js'
import type { VerificationKeys } from '../keys/key-source.js'
import type { AccessTokenClaims } from '../types.js'

export interface TokenCacheLimits {
  /** Tokens kept at most (least recently used dropped first). */
  max: number
  /** Seconds a token is kept at most (never past its `exp`). */
  ttl: number
}

export interface CachedToken {
  /** The whole token string the claims were verified from. */
  token: string
  /** Deep-frozen: shared by every request that presents the token. */
  claims: AccessTokenClaims
  /** The issuer's keys, and their version, that verified the signature. */
  keys: VerificationKeys
  version: number
  /** The token's `alg`, checked against the issuer's allowlist on every use. */
  alg: string
}

/** FNV-1a over the last 32 characters: signature bytes, unpredictable for a valid token. */
function fingerprint (token: string): number {
  let hash = 0x811c9dc5
  for (let i = Math.max(0, token.length - 32); i < token.length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193)
  return hash
}

export class TokenCache {
  readonly #lru: LruCache<number, CachedToken>
  readonly #seen = new Set<number>()
  readonly #max: number
  readonly #ttlMs: number
  readonly #now: () => number

  constructor (options: TokenCacheLimits, now: () => number = Date.now) {
    this.#lru = new LruCache({ maxEntries: options.max, now })
    this.#max = options.max
    this.#ttlMs = options.ttl * 1000
    this.#now = now
  }

  /** Entries held, stale ones not yet dropped included. */
  get size (): number {
    return this.#lru.size
  }

  /** The entry for exactly this token, unless expired or verified with a replaced key set. */
  get (token: string): CachedToken | undefined {
    const id = fingerprint(token)
    const entry = this.#lru.get(id)
    if (entry === undefined || entry.token !== token) return undefined
    if (entry.keys.version !== entry.version) {
      this.#lru.delete(id)
      return undefined
    }
    return entry
  }

  /**
   * Remembers a fully verified token until `exp` (whole seconds), at most `ttl`, once seen twice,
   * and only when the key set did not change during the verification (the entry must name the
   * keys that verified it).
   */
  set (token: string, entry: Omit<CachedToken, 'token'>): void {
    const ttlMs = Math.min(entry.claims.exp * 1000 - this.#now(), this.#ttlMs)
    if (!(ttlMs > 0)) return
    const id = fingerprint(token)
    // The sighting counts even when the key set changed under this verification (the first one
    // of a cold start); the entry is kept only when it names the keys that verified it.
    if (this.#admit(id) && entry.keys.version === entry.version) this.#lru.set(id, { token, ...entry }, ttlMs)
  }

  #admit (id: number): boolean {
    if (this.#seen.delete(id)) return true
    if (this.#seen.size >= this.#max) this.#seen.clear()
    this.#seen.add(id)
    return false
  }
}

/** Freezes parsed JSON (no cycles) throughout, so no request can alter what another one reads. */
export function deepFreeze<T> (value: T): T {
  Object.freeze(value)
  // for…in: no array of values made per object (parsed JSON has no inherited enumerable members).
  for (const name in value) {
    const member = value[name]
    if (typeof member === 'object' && member !== null) deepFreeze(member)
  }
  return value
}
