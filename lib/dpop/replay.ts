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
import type { ReplayStore } from '../stores/types.js'

export class ReplayGuard {
  readonly #store: ReplayStore
  readonly #ttlSeconds: number
  readonly #timeoutMs: number

  constructor (store: ReplayStore, windowSeconds: number, timeoutMs: number) {
    this.#store = store
    this.#ttlSeconds = Math.ceil(windowSeconds) + 1
    this.#timeoutMs = timeoutMs
  }

  get ttlSeconds (): number {
    return this.#ttlSeconds
  }

  /** Resolves when the proof is new; throws when it is a replay or the store cannot tell. */
  async check (jkt: string, jti: string): Promise<void> {
    const key = `${jkt}.${hash('sha256', jti, 'base64url')}`
    let fresh: unknown
    try {
      // A store that answers at once needs no timeout (and no timer per request).
      fresh = this.#store.checkAndRememberNow !== undefined
        ? this.#store.checkAndRememberNow(key, this.#ttlSeconds)
        : await this.#bounded(this.#store.checkAndRemember(key, this.#ttlSeconds))
    } catch (err) {
      throw new ReplayStoreUnavailableError('replay_store_failed', 'DPoP replay check unavailable', 5, { cause: err })
    }
    if (fresh === false) throw new InvalidDpopProofError('proof_replayed', 'DPoP proof replayed')
    if (fresh !== true) {
      throw new ReplayStoreUnavailableError('replay_store_failed', 'DPoP replay check unavailable', 5, {
        cause: new TypeError('ReplayStore.checkAndRemember must resolve true or false')
      })
    }
  }

  /** The store's answer, or a rejection once `timeout` has passed without one. */
  async #bounded (answer: Promise<boolean>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        answer,
        // Not unref'd: it lives only while a request waits, and is always cleared below.
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`replay store did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs)
        })
      ])
    } finally {
      clearTimeout(timer)
    }
  }
}
