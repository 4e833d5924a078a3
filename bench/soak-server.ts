/**
 * The server of the soak test (`npm run soak`), in its own process so that its memory is read
 * alone: the plugin as a multi-instance deployment configures it — the Redis store of
 * `fastify-auth0-api/redis` as cache adapter and DPoP replay store, DPoP allowed, server nonces
 * on — behind one protected route. Started by bench/soak.ts, which passes everything in the
 * environment and waits for the `{"listening":port}` line.
 */
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import auth0Plugin from '../lib/index.js'
import { redisStore } from '../lib/redis/index.js'

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} must be set: the soak server is started by bench/soak.ts`)
  return value
}

const issuer = required('SOAK_ISSUER')
const audience = required('SOAK_AUDIENCE')
const redisUrl = required('SOAK_REDIS_URL')
const prefix = required('SOAK_REDIS_PREFIX')
const cacheTtl = Number(required('SOAK_CACHE_TTL'))
const staleIfError = Number(required('SOAK_STALE_IF_ERROR'))
const nonceWindow = Number(required('SOAK_NONCE_WINDOW'))

// As a deployment would: commands fail fast while Redis is unreachable instead of queueing.
const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 })
redis.on('error', (err: Error) => process.stderr.write(`redis: ${err.message}\n`))
await new Promise<void>((resolve, reject) => {
  redis.once('ready', resolve)
  redis.once('error', reject)
})
const store = redisStore({ client: redis, prefix })

// Errors only: a 503 during the outage is logged at warn, anything at error level is unexpected
// and the driver counts those lines.
const app = Fastify({ logger: { level: 'error' } })
await app.register(auth0Plugin, {
  issuerBaseURL: issuer,
  audience,
  env: {},
  cache: { ttl: cacheTtl, adapter: store },
  staleIfError,
  dpop: { mode: 'allowed', replayStore: store, nonce: { windowSeconds: nonceWindow } }
})
app.get('/soak/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub, scheme: request.auth?.scheme }))
// Memory after a full collection (the driver starts node with --expose-gc), so the figures taken
// every minute compare live memory, not the collector's timing.
app.get('/soak/memory', async () => {
  globalThis.gc?.()
  return process.memoryUsage()
})

await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
process.stdout.write(JSON.stringify({ listening: typeof address === 'object' && address !== null ? address.port : 0 }) + '\n')

process.once('SIGTERM', () => {
  void app.close().finally(() => {
    redis.disconnect()
    process.exit(0)
  })
})
