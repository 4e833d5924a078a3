/**
 * This plugin, with the options a user would give it. It is loaded from the compiled
 * `lib/index.js` next to this file's build output (`npm run bench` compiles lib/ and bench/
 * together), by a computed specifier so that bench/ still type-checks while lib/index.ts does
 * not exist: then this process exits before listening and the driver reports "unavailable".
 */
import Fastify, { type FastifyPluginAsync, type preHandlerHookHandler } from 'fastify'
import { announce, readServerEnv } from './common.js'

const env = readServerEnv()
const specifier = new URL('../../lib/index.js', import.meta.url).href
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
