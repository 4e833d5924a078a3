/**
 * Turns an `AuthError` into the reply: status, headers, `{"detail":{…}}` body, and a log line
 * that names the reason and the request id (Fastify adds it) but never the token.
 * The body is sent as a string: serialised once per (error, description) — both fixed strings
 * chosen by this library — and out of reach of any response schema the route declares for 401/403.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthError } from '../errors.js'
import { replyWithDiagnostics, type Diagnostics } from '../diagnostics/index.js'

const JSON_TYPE = 'application/json; charset=utf-8'
const bodies = new Map<string, string>()

function body (err: AuthError): string {
  const key = `${err.error} ${err.error_description}`
  let text = bodies.get(key)
  if (text === undefined) {
    text = JSON.stringify(err.toJSON())
    // Descriptions come from a fixed set; the bound is a safety net.
    if (bodies.size < 1000) bodies.set(key, text)
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
