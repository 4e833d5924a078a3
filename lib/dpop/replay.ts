/**
 * Replay protection (RFC 9449 §11.1): a proof is accepted once. The key is the proof key's
 * thumbprint plus a hash of `jti`, so another key reusing a `jti` is not mistaken for a replay and
 * every key has the same fixed length whatever the client sent. An entry lives as long as a proof
 * can pass the `iat` check: `iatOffset + iatLeeway` seconds, plus one for rounding.
 *
 * The store failing or not answering within `timeout` fails closed with a 503: no proof is
 * accepted unless we know it was not seen, and the outage is the server's, not the client's.
 */
import { hash } from 'node:crypto'
import { InvalidDpopProofError, ReplayStoreUnavailableError } from '../errors.js'
import { MemoryReplayStore } from '../stores/memory-replay.js'
import type { ReplayStore } from '../stores/types.js'

export class ReplayGuard {
  readonly #store: ReplayStore
  readonly #ttlSeconds: number
  readonly #timeoutMs: number
  /** The built-in store itself (not a subclass, which may override `checkAndRemember`): it answers at once, no timeout to arm. */
  readonly #local: MemoryReplayStore | undefined

  constructor (store: ReplayStore, windowSeconds: number, timeoutMs: number) {
    this.#store = store
    this.#ttlSeconds = Math.ceil(windowSeconds) + 1
    this.#timeoutMs = timeoutMs
    this.#local = Object.getPrototypeOf(store) === MemoryReplayStore.prototype ? store as MemoryReplayStore : undefined
  }

  get ttlSeconds (): number {
    return this.#ttlSeconds
  }

  /** Resolves when the proof is new; throws when it is a replay or the store cannot tell. */
  async check (jkt: string, jti: string): Promise<void> {
    const key = `${jkt}.${hash('sha256', jti, 'base64url')}`
    if (this.#local !== undefined) {
      if (!this.#local.checkAndRememberNow(key, this.#ttlSeconds)) throw new InvalidDpopProofError('proof_replayed', 'DPoP proof replayed')
      return
    }
    let timer: NodeJS.Timeout | undefined
    let fresh: unknown
    try {
      fresh = await Promise.race([
        this.#store.checkAndRemember(key, this.#ttlSeconds),
        // Not unref'd: it lives only while a request waits, and is always cleared below.
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`replay store did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs)
        })
      ])
    } catch (err) {
      throw new ReplayStoreUnavailableError('replay_store_failed', 'DPoP replay check unavailable', 5, { cause: err })
    } finally {
      clearTimeout(timer)
    }
    if (fresh === false) throw new InvalidDpopProofError('proof_replayed', 'DPoP proof replayed')
    if (fresh !== true) {
      throw new ReplayStoreUnavailableError('replay_store_failed', 'DPoP replay check unavailable', 5, {
        cause: new TypeError('ReplayStore.checkAndRemember must resolve true or false')
      })
    }
  }
}
