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
import type { MaybePromise } from '../util/maybe-async.js'

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

  /** Resolves when the proof is new; rejects when it is a replay or the store cannot tell. */
  async check (jkt: string, jti: string): Promise<void> {
    await this.checkNow(jkt, jti)
  }

  /**
   * `check` without a promise for a store that answers at once (`checkAndRememberNow`, the
   * built-in one): returns or throws, no microtask turn, no timer.
   */
  checkNow (jkt: string, jti: string): MaybePromise<void> {
    const key = `${jkt}.${hash('sha256', jti, 'base64url')}`
    if (this.#store.checkAndRememberNow === undefined) return this.#waitFor(key)
    let fresh: unknown
    try {
      fresh = this.#store.checkAndRememberNow(key, this.#ttlSeconds)
    } catch (err) {
      throw unavailable(err)
    }
    verdict(fresh)
  }

  async #waitFor (key: string): Promise<void> {
    let fresh: unknown
    try {
      fresh = await this.#bounded(this.#store.checkAndRemember(key, this.#ttlSeconds))
    } catch (err) {
      throw unavailable(err)
    }
    verdict(fresh)
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

function unavailable (err: unknown): ReplayStoreUnavailableError {
  return new ReplayStoreUnavailableError('replay_store_failed', 'DPoP replay check unavailable', 5, { cause: err })
}

function verdict (fresh: unknown): void {
  if (fresh === false) throw new InvalidDpopProofError('proof_replayed', 'DPoP proof replayed')
  if (fresh !== true) {
    throw new ReplayStoreUnavailableError('replay_store_failed', 'DPoP replay check unavailable', 5, {
      cause: new TypeError('ReplayStore.checkAndRemember must resolve true or false')
    })
  }
}
