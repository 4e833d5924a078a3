/**
 * Prometheus metrics from the plugin's diagnostics channels (node:diagnostics_channel) with
 * prom-client: no hook written, nothing changed in the routes.
 *
 *   npm run build:examples && node .build/examples/metrics/index.js
 *
 * runs it against a local test issuer and prints curl lines to try (AUTH0_DOMAIN and
 * AUTH0_AUDIENCE set: against your tenant).
 *
 *   GET /api/public     no token
 *   GET /api/private    any valid token
 *   GET /api/messages   a token with read:messages
 *   GET /metrics        the counters and the histogram, in Prometheus' text format
 *
 * Labels are bounded: outcome, reason, scheme, route pattern, method, cached, issuer (the verified
 * `iss`, from your configured list). Never label with `sub`, `jti` or anything a client chooses.
 * The channels are process-wide: one app per process here, as in production.
 */
import dc from 'node:diagnostics_channel'
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { diagnosticsChannels, type Auth0PluginOptions, type AuthMessage, type KeysMessage, type VerifyContext } from 'fastify-auth0-api'
import { Counter, Histogram, Registry } from 'prom-client'
import { serveExample } from '../serve.js'

export async function buildMetrics (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  const registry = new Registry()

  const verifications = new Counter({
    name: 'auth0_verifications_total',
    help: 'Access-token verifications, by outcome and reason',
    labelNames: ['outcome', 'reason', 'scheme', 'route', 'method', 'cached', 'issuer'] as const,
    registers: [registry]
  })
  const duration = new Histogram({
    name: 'auth0_verification_duration_seconds',
    help: 'Time to verify a request, key fetches included',
    labelNames: ['outcome', 'route'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25, 1, 5],
    registers: [registry]
  })
  const keyEvents = new Counter({
    name: 'auth0_key_events_total',
    help: 'Discovery and JWKS fetches, fetch failures, stale-key use and cache failures',
    labelNames: ['type', 'document'] as const,
    registers: [registry]
  })

  const onAuth = (message: unknown): void => {
    const m = message as AuthMessage
    verifications.inc({
      outcome: m.outcome,
      reason: m.reason ?? '',
      scheme: m.scheme ?? 'none',
      route: m.route ?? '',
      method: m.method,
      cached: String(m.cached),
      issuer: m.issuer ?? ''
    })
  }
  const onKeys = (message: unknown): void => {
    const event = message as KeysMessage
    keyEvents.inc({ type: event.type, document: 'document' in event ? event.document : '' })
  }
  // The tracing channel's context is one object per verification: it carries the start time.
  const started = new WeakMap<VerifyContext, bigint>()
  const observe = (context: VerifyContext): void => {
    const start = started.get(context)
    if (start === undefined || context.outcome === undefined) return
    duration.observe({ outcome: context.outcome, route: context.route ?? '' }, Number(process.hrtime.bigint() - start) / 1e9)
    started.delete(context)
  }
  const tracing = dc.tracingChannel<unknown, VerifyContext>(diagnosticsChannels.verify)
  const timing = {
    start: (context: VerifyContext) => { started.set(context, process.hrtime.bigint()) },
    // A synchronous verification has its outcome at `end`; one that waited, at `asyncEnd`.
    end: observe,
    asyncStart: () => {},
    asyncEnd: observe,
    error: () => {}
  }
  dc.subscribe(diagnosticsChannels.auth, onAuth)
  dc.subscribe(diagnosticsChannels.keys, onKeys)
  tracing.subscribe(timing)
  app.addHook('onClose', async () => {
    dc.unsubscribe(diagnosticsChannels.auth, onAuth)
    dc.unsubscribe(diagnosticsChannels.keys, onKeys)
    tracing.unsubscribe(timing)
  })

  await app.register(auth0Plugin, options)
  app.get('/api/public', async () => ({ message: 'public' }))
  app.get('/api/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async () => [{ id: 1, text: 'hello' }])
  // Protect it, or serve it on an internal port, in production.
  app.get('/metrics', async (_request, reply) => await reply.type(registry.contentType).send(await registry.metrics()))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => ({
    app: await buildMetrics(local?.options),
    tries: local === undefined ? [] : [
      { status: 200, what: 'any valid token', path: '/api/private', token: await local.issuer.token() },
      { status: 401, what: 'no token', path: '/api/private' },
      { status: 403, what: 'no read:messages', path: '/api/messages', token: await local.issuer.token() },
      { status: 200, what: 'the counters and the histogram (after the requests above)', path: '/metrics' }
    ]
  }))
}
