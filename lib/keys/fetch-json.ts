/**
 * Fetches a JSON document from an issuer with a timeout, a size cap, no redirects and no
 * cookies. Every failure becomes an `IssuerFetchError` with a kind, so callers can tell an
 * outage (503) from a bad token (401).
 */

/**
 * The WHATWG `fetch` every outbound request goes through (the `fetch` option: an egress proxy,
 * a private CA, instrumentation). Only the members used here are required.
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/** The global `fetch`, looked up at each call (instrumentation may replace it after start-up). */
export const globalFetch: FetchLike = async (input, init) => await fetch(input, init)

export type FetchFailure = 'timeout' | 'network' | 'status' | 'bad_json' | 'too_large'

export class IssuerFetchError extends Error {
  readonly kind: FetchFailure
  constructor (kind: FetchFailure, message: string, options: { cause?: unknown } = {}) {
    super(message, options)
    this.name = 'IssuerFetchError'
    this.kind = kind
  }
}

export interface FetchedJson {
  body: unknown
  /** `max-age` of `Cache-Control`, in seconds, when the issuer sent one. */
  maxAge?: number
}

const MAX_BYTES = 512 * 1024

export async function fetchJson (url: string, timeout: number, fetcher: FetchLike = globalFetch): Promise<FetchedJson> {
  let res: Response
  try {
    res = await fetcher(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeout)
    })
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError'
    throw new IssuerFetchError(timedOut ? 'timeout' : 'network', `${timedOut ? 'timed out' : 'network error'} fetching ${url}`, { cause: err })
  }
  let text: string
  try {
    if (res.status !== 200) throw new IssuerFetchError('status', `HTTP ${res.status} fetching ${url}`)
    const declared = Number(res.headers.get('content-length'))
    if (declared > MAX_BYTES) throw new IssuerFetchError('too_large', `response too large from ${url}`)
    text = await res.text()
    if (text.length > MAX_BYTES) throw new IssuerFetchError('too_large', `response too large from ${url}`)
  } catch (err) {
    await res.body?.cancel().catch(() => {})
    if (err instanceof IssuerFetchError) throw err
    const timedOut = (err as Error).name === 'TimeoutError'
    throw new IssuerFetchError(timedOut ? 'timeout' : 'network', `${timedOut ? 'timed out' : 'network error'} reading ${url}`, { cause: err })
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new IssuerFetchError('bad_json', `invalid JSON from ${url}`, { cause: err })
  }
  const result: FetchedJson = { body }
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(res.headers.get('cache-control') ?? '')
  if (match !== null) result.maxAge = Number(match[1])
  return result
}
