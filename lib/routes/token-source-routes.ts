/**
 * What a route reading tokens from other places than the header needs, set when it is declared
 * (Fastify's `onRoute` hook may change a route's options):
 * - a `'body'` source on a hook that runs before the body is parsed (`onRequest`, `preParsing`)
 *   is refused at once: it could never see a body token;
 * - a route that may read a query token gets `Cache-Control: private` on its 2xx answers to such
 *   requests (RFC 6750 §2.3), and a request log serializer that hides the token: Fastify logs
 *   `req.url` in its "incoming request" line, before any hook runs.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { ResolvedConfig } from '../config/options.js'
import { HEADER_ONLY, redactQueryToken, type ResolvedTokenSources } from '../http/token-sources.js'
import type { RouteRequirements } from '../scopes.js'
import { requirementsOf } from './protected-routes.js'

type Serializer = (value: unknown) => unknown

/** The token sources a route's requirements use: its own, else the plugin's. */
export function effectiveSources (requirements: RouteRequirements, config: ResolvedConfig): ResolvedTokenSources {
  return requirements.sources ?? config.tokenSources ?? HEADER_ONLY
}

/** Fastify's default request serializer (lib/logger-pino.js), for loggers that carry none. */
function fastifyRequestSerializer (req: unknown): unknown {
  const r = req as FastifyRequest
  return { method: r.method, url: r.url, version: r.headers?.['accept-version'], host: r.host, remoteAddress: r.ip, remotePort: r.socket?.remotePort }
}

/** `serializer`, given the request with its `url` (and `raw.url`) redacted. */
function redacting (serializer: Serializer): Serializer {
  return (req) => {
    const request = req as { url?: unknown, raw?: { url?: unknown } }
    if (typeof request?.url !== 'string') return serializer(req)
    const url = redactQueryToken(request.url)
    if (url === request.url) return serializer(req)
    // Everything else read through the request itself (getters use `this.raw`).
    const raw = request.raw === undefined ? undefined : Object.create(request.raw as object, { url: { value: url } }) as unknown
    return serializer(Object.create(req as object, { url: { value: url }, originalUrl: { value: url }, ...(raw !== undefined ? { raw: { value: raw } } : {}) }))
  }
}

/** RFC 6750 §2.3: a 2xx answered to a query token is `Cache-Control: private`. */
export function privateCacheControl (current: unknown): string {
  if (typeof current !== 'string' || current.trim() === '') return 'private'
  const directives = current.split(',').map((d) => d.trim()).filter((d) => d !== '')
  if (directives.some((d) => /^(?:private|no-store)\b/i.test(d))) return current
  // Shared-cache directives no longer apply.
  return ['private', ...directives.filter((d) => !/^(?:public|s-maxage)\b/i.test(d))].join(', ')
}

function queryTokenNotCached (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
  if (request.auth?.source === 'query' && reply.statusCode >= 200 && reply.statusCode < 300) {
    reply.header('cache-control', privateCacheControl(reply.getHeader('cache-control')))
  }
  done(null, payload)
}

function list (value: unknown): unknown[] {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]
}

/** Checks and completes a route protected by `requireAuth` hooks with these requirements. */
export function prepareTokenSourceRoute (route: RouteOptions, requirements: readonly RouteRequirements[], config: ResolvedConfig, parentSerializers: Record<string, Serializer> | undefined): void {
  const where = `route ${String(route.method)} ${route.url}`
  for (const hook of ['onRequest', 'preParsing'] as const) {
    for (const fn of list(route[hook])) {
      const found = requirementsOf(fn)
      if (found !== undefined && effectiveSources(found, config).body) {
        throw new Error(`fastify-auth0-api: ${where}: a 'body' token source needs the parsed body: use requireAuth as preValidation or preHandler, not ${hook}`)
      }
    }
  }
  // With the plugin reading query tokens, clients may send them to any protected route: redact there too.
  let query = config.tokenSources?.query === true
  for (const found of requirements) {
    const sources = effectiveSources(found, config)
    if (!sources.headerOnly && (found.dpop ?? config.dpop.mode) === 'required') {
      throw new Error(`fastify-auth0-api: ${where}: tokenSources other than the header cannot be combined with DPoP required (DPoP tokens travel only in the Authorization header)`)
    }
    query ||= sources.query
  }
  if (!query) return
  route.onSend = [...list(route.onSend), queryTokenNotCached] as RouteOptions['onSend']
  const serializers = (route.logSerializers ?? {}) as Record<string, Serializer>
  const req = serializers.req ?? parentSerializers?.req ?? fastifyRequestSerializer
  route.logSerializers = Object.assign(Object.create(serializers) as object, { req: redacting(req) })
}
