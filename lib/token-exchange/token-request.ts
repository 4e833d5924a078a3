/**
 * One POST to the token endpoint and the reading of its answer. The call has a timeout, follows no
 * redirect and caps the answer's size; a refusal becomes a `TokenEndpointError` with the endpoint's
 * OAuth error code, and any credential the endpoint echoes is redacted from its description.
 */
import { TokenEndpointError } from './errors.js'
import type { TokenSet } from './types.js'

const MAX_BYTES = 512 * 1024
const OAUTH_ERROR = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/

/** `value` with each credential we sent replaced, for messages built from the server's words. */
function redact (value: string, secrets: readonly string[]): string {
  let out = value
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]')
  return out
}

/**
 * Sends the form and returns the answer's JSON object, which holds a non-empty `access_token`.
 * `secrets` are the values sent (subject token, client secret or assertion), never repeated in an error.
 */
export async function postTokenRequest (url: string, params: URLSearchParams, headers: Record<string, string>, timeout: number, secrets: readonly string[]): Promise<Record<string, unknown>> {
  let res: Response
  let text: string
  try {
    res = await fetch(url, { method: 'POST', headers, body: params, redirect: 'error', signal: AbortSignal.timeout(timeout) })
    const declared = Number(res.headers.get('content-length'))
    if (declared > MAX_BYTES) {
      await res.body?.cancel().catch(() => {})
      throw new TokenEndpointError('invalid_response', 'token endpoint answer too large', res.status)
    }
    text = await res.text()
  } catch (err) {
    if (err instanceof TokenEndpointError) throw err
    const timedOut = (err as Error).name === 'TimeoutError'
    throw new TokenEndpointError(timedOut ? 'timeout' : 'network_error', `${timedOut ? `no answer within ${timeout} ms` : 'could not reach'} ${url}`, undefined, { cause: err })
  }
  if (text.length > MAX_BYTES) throw new TokenEndpointError('invalid_response', 'token endpoint answer too large', res.status)
  let body: unknown
  try { body = JSON.parse(text) } catch {}
  const doc = typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : undefined

  if (res.status !== 200) {
    if (doc !== undefined && typeof doc.error === 'string' && OAUTH_ERROR.test(doc.error)) {
      const description = typeof doc.error_description === 'string' ? redact(doc.error_description, secrets).slice(0, 500) : undefined
      throw new TokenEndpointError(doc.error, description, res.status)
    }
    throw new TokenEndpointError('invalid_response', 'not an OAuth error response', res.status)
  }
  if (doc === undefined) throw new TokenEndpointError('invalid_response', 'answer is not a JSON object', res.status)
  if (typeof doc.access_token !== 'string' || doc.access_token === '') {
    throw new TokenEndpointError('invalid_response', 'answer has no access_token', res.status)
  }
  return doc
}

/** The common members of every exchange's answer; `expiresAt` computed from `expires_in`. */
export function tokenSet (doc: Record<string, unknown>): TokenSet {
  const set: TokenSet = { accessToken: doc.access_token as string }
  if (typeof doc.token_type === 'string') set.tokenType = doc.token_type
  if (doc.expires_in !== undefined) {
    const seconds = typeof doc.expires_in === 'string' && /^\d+$/.test(doc.expires_in) ? Number(doc.expires_in) : doc.expires_in
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
      throw new TokenEndpointError('invalid_response', 'expires_in is not a number of seconds', 200)
    }
    set.expiresIn = seconds
    set.expiresAt = Math.floor(Date.now() / 1000) + seconds
  }
  if (typeof doc.scope === 'string') set.scope = doc.scope
  if (typeof doc.issued_token_type === 'string') set.issuedTokenType = doc.issued_token_type
  return set
}
