/**
 * Every way a request can fail authentication, as one class hierarchy. Each error carries what a
 * reply needs (status, RFC 6750 / RFC 9449 error code, description, headers) and a stable machine
 * `reason` for logs and metrics. Descriptions are fixed strings chosen by this library (or text of
 * a library it calls), never client input, so they cannot leak a token; and every description is
 * made safe here, where it is made (`safeDescription`), so none can break the challenge grammar.
 */

// RFC 6750 §3 / RFC 6749 Appendix A.8: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ).
const UNSAFE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/

/**
 * `text` in the character set RFC 6750 §3 allows in `error_description`: printable ASCII without
 * `"` and `\`. Our own descriptions are written that way and come out unchanged; any other text
 * (a message from a library we call, a claim name from configuration) is mapped deterministically:
 * `"` → `'`, `\` → `/`, a control character → a space, any other character → `?`; an empty text
 * becomes `error` (the grammar needs at least one character). The body carries the same text.
 */
export function safeDescription (text: string): string {
  if (text !== '' && !UNSAFE.test(text)) return text
  if (text === '') return 'error'
  let out = ''
  for (const char of text) {
    const code = char.codePointAt(0) as number
    out += char === '"' ? "'" : char === '\\' ? '/' : code < 0x20 || code === 0x7f ? ' ' : code > 0x7e ? '?' : char
  }
  return out
}

/** The scheme an error is about; decides which challenge carries the error parameters. */
export type ChallengeScheme = 'bearer' | 'dpop'

export abstract class AuthError extends Error {
  abstract readonly statusCode: number
  /** RFC 6750 / RFC 9449 error code, as sent in the body and in the challenge. */
  abstract readonly error: string
  readonly error_description: string
  /** Stable, machine-readable cause (`token_expired`, `kid_not_found` …). */
  readonly reason: string
  /** Response headers: `www-authenticate`, and `retry-after` / `dpop-nonce` where they apply. */
  headers: Record<string, string> = {}
  /** Scheme the failing credentials were presented with, when known. */
  scheme: ChallengeScheme | undefined

  constructor (reason: string, description: string, options: { scheme?: ChallengeScheme, cause?: unknown } = {}) {
    // A refused request is an expected outcome, not a bug: a stack trace would cost more than the
    // whole verification (a `cause` keeps its own).
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    const safe = safeDescription(description)
    super(safe, options.cause === undefined ? undefined : { cause: options.cause })
    Error.stackTraceLimit = stackTraceLimit
    this.name = new.target.name
    this.reason = reason
    this.error_description = safe
    this.scheme = options.scheme
  }

  /** The reply body: `{"detail":{"error":…,"error_description":…}}`. */
  toJSON (): { detail: { error: string, error_description: string } } {
    return { detail: { error: this.error, error_description: this.error_description } }
  }
}

/** 401 without an error code: the request carried no credentials at all (RFC 6750 §3.1). */
export class MissingCredentialsError extends AuthError {
  readonly statusCode = 401
  readonly error = 'invalid_request'
  constructor () { super('credentials_missing', 'authorization header missing') }
}

/** 400: the request is malformed (header grammar, schemes, duplicate headers). */
export class InvalidRequestError extends AuthError {
  readonly statusCode = 400
  readonly error = 'invalid_request'
}

/** 401: the access token is not acceptable. */
export class InvalidTokenError extends AuthError {
  readonly statusCode = 401
  readonly error = 'invalid_token'
}

/** 401: the DPoP proof is not acceptable. */
export class InvalidDpopProofError extends AuthError {
  readonly statusCode = 401
  readonly error = 'invalid_dpop_proof'
  constructor (reason: string, description: string, options: { cause?: unknown } = {}) {
    super(reason, description, { ...options, scheme: 'dpop' })
  }
}

/** 401: the proof lacks the current server nonce; the reply carries a fresh `DPoP-Nonce`. */
export class UseDpopNonceError extends AuthError {
  readonly statusCode = 401
  readonly error = 'use_dpop_nonce'
  readonly nonce: string
  constructor (reason: string, description: string, nonce: string) {
    super(reason, description, { scheme: 'dpop' })
    this.nonce = nonce
  }
}

/** 403: the token is valid but lacks a required scope or claim value. */
export class InsufficientScopeError extends AuthError {
  readonly statusCode = 403
  readonly error = 'insufficient_scope'
  /** The scopes the route asks for, as sent in the challenge's `scope=`. */
  readonly requiredScopes: readonly string[]
  constructor (requiredScopes: readonly string[], description: string, scheme: ChallengeScheme) {
    super('insufficient_scope', description, { scheme })
    this.requiredScopes = requiredScopes
  }
}

/** 503: a service the check depends on is unavailable; the reply carries `Retry-After`. */
export abstract class TemporarilyUnavailableError extends AuthError {
  readonly statusCode = 503
  readonly error = 'temporarily_unavailable'
  /** Seconds after which a retry may succeed. */
  readonly retryAfter: number
  constructor (reason: string, description: string, retryAfter: number, options: { cause?: unknown } = {}) {
    super(reason, description, options)
    this.retryAfter = retryAfter
  }
}

/** 503: keys could not be obtained from the issuer and no usable cached keys remain. */
export class IssuerUnavailableError extends TemporarilyUnavailableError {}

/**
 * 503: the DPoP replay store failed or did not answer. Requests fail closed (no proof is accepted
 * without knowing it is new), and as an outage of ours, not a fault of the client's proof.
 */
export class ReplayStoreUnavailableError extends TemporarilyUnavailableError {}

/** 500: anything unexpected (misconfiguration, a failing resolver or store). Logged in full. */
export class InternalAuthError extends AuthError {
  readonly statusCode = 500
  readonly error = 'internal_server_error'
  constructor (reason: string, options: { cause?: unknown } = {}) {
    super(reason, 'internal error', options)
  }
}
