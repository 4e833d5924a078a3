/**
 * Turns an `AuthError` into the reply: status, headers, `{"detail":{…}}` body, and a log line
 * that names the reason and the request id (Fastify adds it) but never the token.
 * The body is sent as a string: serialised once per (error, description) — both fixed strings
 * chosen by this library — and out of reach of any response schema the route declares for 401/403.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AuthError } from '../errors.js'
import { replyWithDiagnostics, type Diagnostics } from '../diagnostics/index.js'
import { isPromise } from '../util/maybe-async.js'

const JSON_TYPE = 'application/json; charset=utf-8'
// error code → description → body. Both are string literals of this library, so the lookups
// hash nothing new (a key built by concatenation would be a fresh string on every refusal).
const bodies = new Map<string, Map<string, string>>()

function body (err: AuthError): string {
  let byDescription = bodies.get(err.error)
  if (byDescription === undefined) bodies.set(err.error, byDescription = new Map())
  let text = byDescription.get(err.error_description)
  if (text === undefined) {
    text = JSON.stringify(err.toJSON())
    // Descriptions come from a fixed set; the bound is a safety net.
    if (byDescription.size < 1000) byDescription.set(err.error_description, text)
  }
  return text
}

export function sendAuthError (request: FastifyRequest, reply: FastifyReply, err: AuthError, diagnostics?: Diagnostics): FastifyReply | Promise<FastifyReply> {
  if (err.statusCode >= 500) {
    const level = err.statusCode === 503 ? 'warn' : 'error'
    request.log[level]({ reason: err.reason, err: err.cause ?? err }, `fastify-auth0-api: ${err.reason}`)
  } else {
    request.log.info({ reason: err.reason, statusCode: err.statusCode }, 'fastify-auth0-api: authentication failed')
  }
  if (diagnostics !== undefined) return replyWithDiagnostics(diagnostics, request, reply, err)
  return reply.code(err.statusCode).headers(err.headers).type(JSON_TYPE).send(body(err))
}

/**
 * A Fastify error handler that answers an `AuthError` (thrown by `fastify.auth0.verify()` in a
 * handler, say) exactly as a `requireAuth` hook would: same status, headers, body, log line and
 * `onAuthError` / `errorResponse` hooks. Any other error is passed on untouched with
 * `reply.send(error)`, which in an error handler hands it to the parent error handler (Fastify's
 * default one at the root).
 */
export type AuthErrorHandler = (error: Error, request: FastifyRequest, reply: FastifyReply) => void | Promise<void>

export function createAuthErrorHandler (diagnostics: Diagnostics | undefined): AuthErrorHandler {
  // Named: tracing tools (@fastify/otel) name spans after the function.
  return function auth0ErrorHandler (error, request, reply) {
    if (!(error instanceof AuthError)) {
      reply.send(error)
      return
    }
    const sent = sendAuthError(request, reply, error, diagnostics)
    // Nothing returned: Fastify would send a returned value (the reply itself) a second time.
    if (isPromise(sent)) return sent.then(() => {})
  }
}
