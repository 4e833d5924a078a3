/**
 * Application hooks on authentication failures: `onAuthError` sees every failure a `requireAuth`
 * hook answers (metrics, audit, alerting), `errorResponse` formats the reply body. Neither can
 * break the reply: their exceptions are logged and the default reply goes out. Status and
 * headers (`WWW-Authenticate`, `Retry-After`, `DPoP-Nonce`) always stay the plugin's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthError } from '../errors.js'

/** Called for every failure a `requireAuth` hook answers, before the reply is sent. May be async. */
export type OnAuthError = (error: AuthError, request: FastifyRequest) => void | Promise<void>

/**
 * Returns the reply body for a failure (an object is sent as JSON, a string or Buffer as is).
 * `undefined` keeps the default body. Set a content type with `reply.type(…)` if needed; status
 * and authentication headers are set by the plugin after this returns.
 */
export type ErrorResponse = (error: AuthError, request: FastifyRequest, reply: FastifyReply) => unknown

export interface DiagnosticsOptions {
  onAuthError?: OnAuthError
  errorResponse?: ErrorResponse
}

export interface Diagnostics {
  readonly onAuthError: OnAuthError | undefined
  readonly errorResponse: ErrorResponse | undefined
}

/**
 * The hooks (their types were checked with the other top-level options, `checkPluginOptions`);
 * `undefined` when none is set (the reply path stays as fast as before).
 */
export function resolveDiagnostics (options: DiagnosticsOptions): Diagnostics | undefined {
  if (options.onAuthError === undefined && options.errorResponse === undefined) return undefined
  return { onAuthError: options.onAuthError, errorResponse: options.errorResponse }
}

/** Runs the hooks and sends the reply. */
export async function replyWithDiagnostics (diagnostics: Diagnostics, request: FastifyRequest, reply: FastifyReply, err: AuthError): Promise<FastifyReply> {
  if (diagnostics.onAuthError !== undefined) {
    try {
      await diagnostics.onAuthError(err, request)
    } catch (hookError) {
      request.log.error({ err: hookError, reason: err.reason }, 'fastify-auth0-api: onAuthError hook failed')
    }
  }
  let payload: string | Buffer | undefined
  if (diagnostics.errorResponse !== undefined) {
    try {
      const body = await diagnostics.errorResponse(err, request, reply)
      // Serialised here, so a response schema the route declares for 401/403 cannot reshape it.
      if (body !== undefined) payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
    } catch (hookError) {
      request.log.error({ err: hookError, reason: err.reason }, 'fastify-auth0-api: errorResponse hook failed, default body sent')
    }
  }
  reply.code(err.statusCode).headers(err.headers)
  if (payload === undefined) return reply.type('application/json; charset=utf-8').send(err.toJSON())
  if (reply.getHeader('content-type') === undefined) reply.type('application/json; charset=utf-8')
  return reply.send(payload)
}
