/**
 * Discovery and JWKS documents through the pluggable `CacheAdapter` (e.g. Redis for several
 * instances), so an instance that finds a document another one fetched needs no fetch. Without an
 * adapter the per-issuer state in `IssuerKeys` is the only cache.
 *
 * The cache is an optimisation, never a dependency: an adapter that fails, hangs or returns junk
 * is a miss (reported through `onError`), and requests carry on with the network and the
 * in-process state. Every adapter call is bounded by `timeoutMs`; writes never hold a request up.
 */
import type { CacheAdapter } from '../stores/types.js'

/** A document as cached: the body plus when it was fetched and for how long it is fresh. */
export interface CachedDocument {
  body: unknown
  /** Epoch milliseconds of the fetch from the issuer. */
  fetchedAt: number
  /** Seconds the document is fresh from `fetchedAt`. */
  ttl: number
}

export interface CacheFailure {
  operation: 'get' | 'set'
  key: string
  error: Error
}

function isCachedDocument (value: unknown): value is CachedDocument {
  if (typeof value !== 'object' || value === null) return false
  const doc = value as Partial<CachedDocument>
  return 'body' in doc && Number.isFinite(doc.fetchedAt) && typeof doc.ttl === 'number' && doc.ttl > 0
}

async function bounded<T> (run: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`cache adapter ${what} did not answer within ${timeoutMs} ms`)), timeoutMs)
    timer.unref()
  })
  try {
    // `run` inside the race so a synchronous throw from the adapter is a rejection too.
    return await Promise.race([(async () => await run())(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

export class DocumentCache {
  readonly #adapter: CacheAdapter | undefined
  readonly #timeoutMs: number
  readonly #onError: (failure: CacheFailure) => void

  /** Without an adapter, nothing is shared: every lookup misses and writes are dropped. */
  constructor (adapter: CacheAdapter | undefined, timeoutMs: number, onError: (failure: CacheFailure) => void) {
    this.#adapter = adapter
    this.#timeoutMs = timeoutMs
    this.#onError = onError
  }

  /** The cached document, or `undefined` (absent, malformed, or the adapter failed). Never rejects. */
  async get (key: string): Promise<CachedDocument | undefined> {
    const adapter = this.#adapter
    if (adapter === undefined) return undefined
    let value: unknown
    try {
      value = await bounded(() => adapter.get(key), this.#timeoutMs, 'get')
    } catch (err) {
      this.#onError({ operation: 'get', key, error: err as Error })
      return undefined
    }
    return isCachedDocument(value) ? value : undefined
  }

  /** Stores in the background: a slow or failing adapter never delays the request. */
  set (key: string, document: CachedDocument, ttlSeconds: number): void {
    const adapter = this.#adapter
    if (adapter === undefined) return
    bounded(() => adapter.set(key, document, ttlSeconds), this.#timeoutMs, 'set').catch((err: unknown) => {
      this.#onError({ operation: 'set', key, error: err as Error })
    })
  }
}
