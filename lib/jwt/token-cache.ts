/**
 * Verified-token cache: the claims of tokens that passed a full verification, keyed by the whole
 * token string (a `Map` key: equality is over every character, so no other token, however long
 * the prefix it shares, can ever read an entry). An entry lives until the token's `exp` at most,
 * and at most `ttl` seconds; it is bound to the key-set version it was verified with, so a key
 * set replaced (rotation, refetch) drops it. It is only a shortcut for the signature and claim
 * checks: the caller still runs every per-request check (issuer policy, algorithm, time, DPoP,
 * scopes) on each use.
 *
 * A token is remembered from its second full verification on: one-off tokens (a client fetching
 * a token per request) would only churn the cache, and keeping them costs more than verifying
 * them. The doorkeeper that counts sightings holds 32-bit fingerprints, never claims: a collision
 * only lets a token in one verification early.
 */
import { LruCache } from '../stores/lru.js'
import type { IssuerKeys } from '../keys/issuer-keys.js'
import type { AccessTokenClaims } from '../types.js'

export interface TokenCacheLimits {
  /** Tokens kept at most (least recently used dropped first). */
  max: number
  /** Seconds a token is kept at most (never past its `exp`). */
  ttl: number
}

export interface CachedToken {
  /** Deep-frozen: shared by every request that presents the token. */
  claims: AccessTokenClaims
  /** The issuer's keys, and their version, that verified the signature. */
  keys: IssuerKeys
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
  readonly #lru: LruCache<string, CachedToken>
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
    const entry = this.#lru.get(token)
    if (entry !== undefined && entry.keys.version !== entry.version) {
      this.#lru.delete(token)
      return undefined
    }
    return entry
  }

  /**
   * Remembers a fully verified token until `exp` (whole seconds), at most `ttl`, once seen twice,
   * and only when the key set did not change during the verification (the entry must name the
   * keys that verified it).
   */
  set (token: string, entry: CachedToken): void {
    const ttlMs = Math.min(entry.claims.exp * 1000 - this.#now(), this.#ttlMs)
    if (ttlMs > 0 && this.#admit(token) && entry.keys.version === entry.version) this.#lru.set(token, entry, ttlMs)
  }

  #admit (token: string): boolean {
    const id = fingerprint(token)
    if (this.#seen.delete(id)) return true
    if (this.#seen.size >= this.#max) this.#seen.clear()
    this.#seen.add(id)
    return false
  }
}

/** Freezes parsed JSON (no cycles) throughout, so no request can alter what another one reads. */
export function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}
