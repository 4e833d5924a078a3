/**
 * The server every `ours*` system runs: the plugin loaded from `specifier` (a computed one, so
 * bench/ still type-checks while the build it names does not exist: the process then exits before
 * listening and the driver reports "unavailable"), registered with the options a user would give
 * it plus `extra`, guarding one route.
 */
import Fastify, { type FastifyPluginAsync, type preHandlerHookHandler } from 'fastify'
import { announce, readServerEnv } from './common.js'

export async function servePlugin (specifier: string, extra: Record<string, unknown> = {}): Promise<void> {
  const env = readServerEnv()
  let plugin: FastifyPluginAsync<Record<string, unknown>>
  try {
    plugin = ((await import(specifier)) as { default: FastifyPluginAsync<Record<string, unknown>> }).default
  } catch (err) {
    process.stderr.write(`unavailable: cannot load ${specifier}: ${(err as Error).message}\n`)
    process.exit(3)
  }
  const app = Fastify({ logger: false })
  await app.register(plugin, { issuerBaseURL: env.issuer, audience: env.audience, ...extra })
  const requireAuth = (app as unknown as { requireAuth: () => preHandlerHookHandler }).requireAuth
  app.get('/protected', { preHandler: requireAuth() }, async (req) => ({
    sub: (req as unknown as { claims?: { sub?: string } }).claims?.sub
  }))
  await app.listen({ host: '127.0.0.1', port: env.port })
  announce(app.server)
}

/** This checkout's compiled plugin, next to this file's build output (`npm run bench` compiles lib/ and bench/ together). */
export const OURS = new URL('../../lib/index.js', import.meta.url).href

/** An environment variable the driver sets for this system. */
export function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    process.stderr.write(`unavailable: ${name} is not set (servers are started by bench/run.ts)\n`)
    process.exit(3)
  }
  return value
}
