/**
 * Failures of calls to the authorization server's token endpoint (token exchange). Not an
 * `AuthError`: these are the API's outgoing calls failing, not an incoming request being refused,
 * so they must never be sent to a client as they are.
 */

/** Local codes, for failures where the token endpoint gave no OAuth error. */
export type TokenEndpointFailure = 'timeout' | 'network_error' | 'invalid_response' | 'discovery_failed'

export class TokenEndpointError extends Error {
  /**
   * The OAuth error code the token endpoint answered (`invalid_grant`, `invalid_client`,
   * `unauthorized_client`, `access_denied` …), or a local code: `timeout`, `network_error`,
   * `invalid_response`, `discovery_failed`.
   */
  readonly error: string
  /** The endpoint's `error_description`, with any credential we sent removed. */
  readonly error_description: string | undefined
  /** HTTP status of the token endpoint's answer, when there was one. */
  readonly statusCode: number | undefined

  constructor (error: string, description: string | undefined, statusCode?: number, options: { cause?: unknown } = {}) {
    super(`token endpoint ${statusCode === undefined ? 'call failed' : `answered ${statusCode}`}: ${error}${description === undefined ? '' : ` (${description})`}`,
      options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TokenEndpointError'
    this.error = error
    this.error_description = description
    this.statusCode = statusCode
  }
}
