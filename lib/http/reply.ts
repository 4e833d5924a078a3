/**
 * Turns an `AuthError` into the reply: status, headers, `{"detail":{…}}` body, and a log line
 * that names the reason and the request id (Fastify adds it) but never the token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthError } from '../errors.js'
import { replyWithDiagnostics, type Diagnostics } from '../diagnostics/index.js'

export function sendAuthError (request: FastifyRequest, reply: FastifyReply, err: AuthError, diagnostics?: Diagnostics): FastifyReply | Promise<FastifyReply> {
  if (err.statusCode >= 500) {
    const level = err.statusCode === 503 ? 'warn' : 'error'
    request.log[level]({ reason: err.reason, err: err.cause ?? err }, `fastify-auth0-api: ${err.reason}`)
  } else {
    request.log.info({ reason: err.reason, statusCode: err.statusCode }, 'fastify-auth0-api: authentication failed')
  }
  if (diagnostics !== undefined) return replyWithDiagnostics(diagnostics, request, reply, err)
  return reply.code(err.statusCode).headers(err.headers).type('application/json; charset=utf-8').send(err.toJSON())
}
