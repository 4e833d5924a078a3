/**
 * Decoded JOSE headers, remembered by their base64url text. Every token of an issuer key carries
 * the same header (`alg`, `kid`, `typ`), and every proof of a DPoP client the same one (its
 * `jwk`): decoding it again per request (base64url, UTF-8 check, JSON.parse) and, for a proof,
 * hashing its key again, is work that is not the signature. The decoded value is a pure function
 * of the text, so an entry is returned only for the very same text (a `Map` lookup: equal strings),
 * deep-frozen because every request that presents that text shares it. Bounded: at most `max`
 * entries of at most `maxLength` characters; when full it is emptied (headers that churn it, e.g.
 * made up by an attacker, only cost their own decoding, as without the memo).
 */
export class SegmentMemo<T> {
  readonly #entries = new Map<string, T>()
  readonly #max: number
  readonly #maxLength: number

  constructor (max: number, maxLength: number) {
    this.#max = max
    this.#maxLength = maxLength
  }

  get (segment: string): T | undefined {
    return this.#entries.get(segment)
  }

  /** Remembers `value` (deep-frozen here) for `segment`, and returns it. */
  remember (segment: string, value: T): T {
    if (segment.length > this.#maxLength) return value
    if (this.#entries.size >= this.#max) this.#entries.clear()
    this.#entries.set(segment, deepFreezeValue(value))
    return value
  }
}

function deepFreezeValue<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreezeValue(member)
  }
  return value
}
