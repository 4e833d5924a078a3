/**
 * `ours` as built in another checkout (`BENCH_BASELINE=/path/to/checkout`, its `dist/index.js`):
 * the same server as servers/ours.ts, so one run compares the plugin before and after a change.
 * Without BENCH_BASELINE (or without a build there) it exits before listening: "unavailable".
 */
import Fastify, { type FastifyPluginAsync, type preHandlerHookHandler } from 'fastify'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { announce, readServerEnv } from './common.js'

const env = readServerEnv()
const baseline = process.env.BENCH_BASELINE
if (baseline === undefined || baseline === '') {
  process.stderr.write('unavailable: BENCH_BASELINE names no checkout\n')
  process.exit(3)
}
const specifier = pathToFileURL(join(resolve(baseline), 'dist/index.js')).href
let plugin: FastifyPluginAsync<Record<string, unknown>>
try {
  plugin = ((await import(specifier)) as { default: FastifyPluginAsync<Record<string, unknown>> }).default
} catch (err) {
  process.stderr.write(`unavailable: cannot load ${specifier}: ${(err as Error).message}\n`)
  process.exit(3)
}

const app = Fastify({ logger: false })
await app.register(plugin, { issuerBaseURL: env.issuer, audience: env.audience })
const requireAuth = (app as unknown as { requireAuth: () => preHandlerHookHandler }).requireAuth
app.get('/protected', { preHandler: requireAuth() }, async (req) => ({
  sub: (req as unknown as { claims?: { sub?: string } }).claims?.sub
}))
await app.listen({ host: '127.0.0.1', port: env.port })
announce(app.server)
