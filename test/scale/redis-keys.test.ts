/**
 * Several instances sharing a real Redis as `cache.adapter`: the documents are fetched once for
 * all of them while fresh; when Redis dies or hangs, key caching falls back to each process and
 * requests neither fail nor wait for Redis.
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { redisStore } from '../../lib/redis/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { fastFailOptions, startRedis, type TestRedis } from '../helpers/redis.js'
import { appWith, captureLogs, get, LEVEL, until } from './helpers.js'

const issuer = await createTestIssuer()
t.teardown(() => issuer.close())

function freshPrefix (t: Test, redis: TestRedis): string {
  const prefix = `scale:${randomUUID()}:`
  t.teardown(async () => {
    const keys = await redis.client.keys(`${prefix}*`).catch(() => [])
    if (keys.length > 0) await redis.client.del(keys)
  })
  return prefix
}

t.test('two apps, one Redis: discovery and JWKS fetched once for both', async (t) => {
  const redis = await startRedis(t)
  const prefix = freshPrefix(t, redis)
  const options = { issuerBaseURL: issuer.issuerBaseURL, staleIfError: 120 }
  const first = await appWith(t, { ...options, cache: { adapter: redisStore({ client: redis.client, prefix }) } })
  const second = await appWith(t, { ...options, cache: { adapter: redisStore({ client: await redis.newClient(), prefix }) } })
  const before = { ...issuer.requests }
  t.equal((await get(first, await issuer.token())).statusCode, 200)
  // Writes are in the background: wait until both documents are in Redis.
  const keys = [`${prefix}cache:discovery:${issuer.issuer}`, `${prefix}cache:jwks:${issuer.jwksUri}`]
  for (let i = 0; i < 100 && (await redis.client.exists(...keys)) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(await redis.client.exists(...keys), 2, 'both documents stored under the prefix')
  const pttl = await redis.client.pttl(keys[1] as string)
  t.ok(pttl > 700_000 && pttl <= 720_000, `kept for ttl + staleIfError (${pttl} ms)`)

  t.equal((await get(second, await issuer.token())).statusCode, 200)
  t.same([issuer.requests.discovery - before.discovery, issuer.requests.jwks - before.jwks], [1, 1], 'one fetch each, for both apps')
  const forged = await issuer.token({}, { signingKey: (await issuer.foreignKey()).privateKey })
  t.equal((await get(second, forged)).statusCode, 401)
})

t.test('Redis killed: requests go on with in-process keys and the network; warned, never failed', async (t) => {
  const redis = await startRedis(t, { own: true })
  const prefix = freshPrefix(t, redis)
  const logs = captureLogs()
  const adapter = (client: Redis): ReturnType<typeof redisStore> => redisStore({ client, prefix })
  const warm = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, cache: { adapter: adapter(redis.client) } })
  t.equal((await get(warm, await issuer.token())).statusCode, 200)

  await redis.stop()
  const token = await issuer.token()
  t.equal((await get(warm, token)).statusCode, 200, 'a warm app does not need Redis')
  const before = { ...issuer.requests }
  const cold = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, cache: { adapter: adapter(redis.client) } }, { logs })
  const started = Date.now()
  t.equal((await get(cold, token)).statusCode, 200, 'a cold app fetches from the issuer')
  t.ok(Date.now() - started < 2000, 'quickly: the fast-fail client rejects at once')
  t.same([issuer.requests.discovery - before.discovery, issuer.requests.jwks - before.jwks], [1, 1])
  await until(() => logs.find('cache adapter failed').length >= 4)
  t.ok(logs.find('cache adapter failed').every((l) => l.level === LEVEL.warn), 'cache failures at warn')
  const forged = await issuer.token({}, { signingKey: (await issuer.foreignKey()).privateKey })
  t.equal((await get(cold, forged)).statusCode, 401, 'nothing that should be rejected is accepted')
  t.equal((await get(warm, forged)).statusCode, 401)

  await redis.restart()
  const third = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, cache: { adapter: adapter(redis.client) } })
  t.equal((await get(third, token)).statusCode, 200, 'Redis back (empty after the crash): refilled')
})

t.test('Redis hung (default ioredis client, commands queued while it is down): adapterTimeout bounds the wait', async (t) => {
  const redis = await startRedis(t, { own: true })
  const prefix = freshPrefix(t, redis)
  // ioredis defaults: an offline queue and 20 retries, so a command waits for a reconnect.
  const client = new Redis(redis.url, { retryStrategy: () => 50 })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  await until(() => client.status === 'ready')
  await redis.stop()
  const logs = captureLogs()
  const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, cache: { adapter: redisStore({ client, prefix }), adapterTimeout: 100 } }, { logs })
  const started = Date.now()
  t.equal((await get(app, await issuer.token())).statusCode, 200)
  const elapsed = Date.now() - started
  t.ok(elapsed < 1500, `answered in ${elapsed} ms: two lookups gave up after 100 ms each`)
  await until(() => logs.find('cache adapter failed').length >= 2)
  t.match(logs.find('cache adapter failed')[0], { level: LEVEL.warn, operation: 'get', err: { message: /did not answer within 100 ms/ } })
})

t.test('Redis busy (a long script blocks the server): lookups time out, requests go on', async (t) => {
  const redis = await startRedis(t, { own: true })
  const prefix = freshPrefix(t, redis)
  const blocker = await redis.newClient()
  const client = new Redis(redis.url, { ...fastFailOptions, commandTimeout: undefined })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  await client.connect()
  blocker.eval('while true do end', 0).catch(() => {})
  await new Promise((resolve) => setTimeout(resolve, 50))
  const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, cache: { adapter: redisStore({ client, prefix }), adapterTimeout: 100 } })
  const started = Date.now()
  t.equal((await get(app, await issuer.token())).statusCode, 200)
  t.ok(Date.now() - started < 1500, 'not held up by the busy server')
  await redis.stop()
})
