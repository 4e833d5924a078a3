/**
 * Builds the single `WWW-Authenticate` line (RFC 9110 §11.6.1) holding every applicable challenge:
 * `Bearer realm="api"` and/or `DPoP algs="ES256"`, with error parameters on the challenge of the
 * scheme at fault. Strings depend only on configuration and fixed descriptions, so they are memoised.
 */
import type { AuthError, ChallengeScheme } from '../errors.js'
import { InsufficientScopeError, InsufficientUserAuthenticationError, InternalAuthError, MissingCredentialsError, TemporarilyUnavailableError, UnsupportedSchemeError, UseDpopNonceError } from '../errors.js'

export type DpopMode = 'allowed' | 'required' | 'disabled'

/** RFC 9110 quoted-string: backslash-escape `"` and `\`. */
export function quote (value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`
}

function params (pairs: Array<[string, string | undefined]>): string {
  return pairs.filter((p): p is [string, string] => p[1] !== undefined).map(([k, v]) => `${k}=${quote(v)}`).join(', ')
}

/** The error parameters of a challenge. */
export interface ChallengeError {
  scheme: ChallengeScheme
  code: string
  description: string
  scope?: string | undefined
  /** RFC 9470 §3 step-up parameters. */
  acrValues?: string | undefined
  maxAge?: number | undefined
}

export interface ChallengeConfig {
  realm: string
  dpopAlgorithms: readonly string[]
  /** RFC 9728 metadata URL added to every 401 challenge, when configured. */
  resourceMetadata?: string
}

export class Challenges {
  readonly #config: ChallengeConfig
  readonly #memo = new Map<string, string>()

  constructor (config: ChallengeConfig) {
    this.#config = config
  }

  /** Challenge line for a route in `mode`, optionally with error parameters on `scheme`. */
  line (mode: DpopMode, error?: ChallengeError, status = 401): string {
    // JSON: no separator that a description or a scope could contain makes two calls collide.
    const key = error === undefined
      ? `${mode}|${status}`
      : JSON.stringify([mode, status, error.scheme, error.code, error.description, error.scope, error.acrValues, error.maxAge])
    let value = this.#memo.get(key)
    if (value === undefined) {
      value = this.#build(mode, error, status)
      // Keys come from configuration and fixed descriptions only; the bound is a safety net.
      if (this.#memo.size < 1000) this.#memo.set(key, value)
    }
    return value
  }

  #build (mode: DpopMode, error: ChallengeError | undefined, status: number): string {
    const metadata = status === 401 ? this.#config.resourceMetadata : undefined
    const parts: string[] = []
    if (mode !== 'required') {
      const e = error?.scheme === 'bearer' ? error : undefined
      parts.push('Bearer ' + params([
        ['realm', this.#config.realm],
        ['error', e?.code],
        ['error_description', e?.description],
        ['scope', e?.scope],
        ['acr_values', e?.acrValues],
        ['max_age', e?.maxAge?.toString()],
        ['resource_metadata', metadata]
      ]))
    }
    if (mode !== 'disabled') {
      const e = error?.scheme === 'dpop' ? error : undefined
      parts.push('DPoP ' + params([
        ['error', e?.code],
        ['error_description', e?.description],
        ['scope', e?.scope],
        ['acr_values', e?.acrValues],
        ['max_age', e?.maxAge?.toString()],
        ['algs', this.#config.dpopAlgorithms.join(' ')],
        ['resource_metadata', metadata]
      ]))
    }
    return parts.join(', ')
  }

  /** Fills `err.headers` for a route in `mode`. */
  apply (err: AuthError, mode: DpopMode): AuthError {
    if (err instanceof TemporarilyUnavailableError) {
      err.headers = { 'retry-after': String(err.retryAfter) }
      return err
    }
    if (err instanceof InternalAuthError) {
      err.headers = {}
      return err
    }
    if (err instanceof MissingCredentialsError || err instanceof UnsupportedSchemeError) {
      err.headers = { 'www-authenticate': this.line(mode) }
      return err
    }
    // The error goes on the one challenge a single-scheme route sends; on a route that accepts both,
    // on the scheme used, or on Bearer when none could be told (a malformed header).
    const scheme: ChallengeScheme = mode === 'required' ? 'dpop' : mode === 'disabled' ? 'bearer' : err.scheme ?? 'bearer'
    const error: ChallengeError = { scheme, code: err.error, description: err.error_description }
    if (err instanceof InsufficientScopeError || err instanceof InsufficientUserAuthenticationError) {
      if (err.requiredScopes.length > 0) error.scope = err.requiredScopes.join(' ')
    }
    if (err instanceof InsufficientUserAuthenticationError) {
      error.acrValues = err.acrValues
      error.maxAge = err.maxAge
    }
    const headers: Record<string, string> = { 'www-authenticate': this.line(mode, error, err.statusCode) }
    if (err instanceof UseDpopNonceError) headers['dpop-nonce'] = err.nonce
    err.headers = headers
    return err
  }
}
