import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { DEFAULT_REDIS_PREFIX, MAX_RAW_KEY_LENGTH, redisStore } from '../../lib/redis/index.js'
import { startRedis } from '../helpers/redis.js'

const redis = await startRedis(t)
const { client } = redis
// A fresh prefix per test keeps tests independent, also on a shared REDIS_URL server, and its
// keys are removed afterwards.
function freshPrefix (t: Test): string {
  const prefix = `test:${randomUUID()}:`
  t.teardown(async () => {
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(keys)
  })
  return prefix
}

t.test('replay: first use true, replay false, other key true', async (t) => {
  const store = redisStore({ client, prefix: freshPrefix(t) })
  t.equal(await store.checkAndRemember('jkt.jti-1', 300), true)
  t.equal(await store.checkAndRemember('jkt.jti-1', 300), false)
  t.equal(await store.checkAndRemember('jkt.jti-2', 300), true)
})

t.test('replay: the key carries a PX expiry and is forgotten after it', async (t) => {
  const prefix = freshPrefix(t)
  const store = redisStore({ client, prefix })
  t.equal(await store.checkAndRemember('k', 0.3), true)
  const pttl = await client.pttl(`${prefix}replay:k`)
  t.ok(pttl > 0 && pttl <= 300, `pttl ${pttl} within (0, 300] ms`)
  t.equal(await store.checkAndRemember('k', 0.3), false)
  await sleep(400)
  t.equal(await store.checkAndRemember('k', 0.3), true, 'accepted again after expiry')
})

t.test('replay: two store objects on one Redis (two API instances) share state', async (t) => {
  const prefix = freshPrefix(t)
  const a = redisStore({ client, prefix })
  const b = redisStore({ client: await redis.newClient(), prefix })
  t.equal(await a.checkAndRemember('proof-1', 60), true)
  t.equal(await b.checkAndRemember('proof-1', 60), false, 'instance B sees the proof used on A')
  t.equal(await b.checkAndRemember('proof-2', 60), true)
  t.equal(await a.checkAndRemember('proof-2', 60), false, 'and the other way round')

  // Concurrent first uses of one proof on both instances: exactly one wins.
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
    await (i % 2 === 0 ? a : b).checkAndRemember('raced', 60)))
  t.equal(results.filter(Boolean).length, 1)
})

t.test('cache: JSON round trip with a PX TTL; miss is undefined', async (t) => {
  const prefix = freshPrefix(t)
  const store = redisStore({ client, prefix })
  const doc = { issuer: 'https://tenant.example/', jwks_uri: 'https://tenant.example/jwks', n: 1, list: [true, null] }
  t.equal(await store.get('discovery'), undefined)
  await store.set('discovery', doc, 600)
  t.same(await store.get('discovery'), doc)
  t.equal(await client.get(`${prefix}cache:discovery`), JSON.stringify(doc), 'stored as JSON text')
  const pttl = await client.pttl(`${prefix}cache:discovery`)
  t.ok(pttl > 599_000 && pttl <= 600_000, `pttl ${pttl} ≈ 600 s`)
  await store.set('null', null, 60)
  t.equal(await store.get('null'), null, 'a stored null is a hit, not a miss')
})

t.test('cache: entries expire', async (t) => {
  const store = redisStore({ client, prefix: freshPrefix(t) })
  await store.set('k', { a: 1 }, 0.2)
  t.same(await store.get('k'), { a: 1 })
  await sleep(300)
  t.equal(await store.get('k'), undefined)
})

t.test('cache: overwrite and delete', async (t) => {
  const store = redisStore({ client, prefix: freshPrefix(t) })
  await store.set('k', 1, 60)
  await store.set('k', 2, 60)
  t.equal(await store.get('k'), 2)
  await store.delete('k')
  t.equal(await store.get('k'), undefined)
  await store.delete('absent')
})

t.test('cache: a corrupt value is a miss and gets deleted', async (t) => {
  const prefix = freshPrefix(t)
  const store = redisStore({ client, prefix })
  await client.set(`${prefix}cache:jwks`, '{"keys": [', 'PX', 60_000)
  t.equal(await store.get('jwks'), undefined)
  t.equal(await client.exists(`${prefix}cache:jwks`), 0, 'removed from Redis')
})

t.test('cache: values that are not JSON-serialisable reject and store nothing', async (t) => {
  const prefix = freshPrefix(t)
  const store = redisStore({ client, prefix })
  await t.rejects(store.set('u', undefined, 60), TypeError)
  await t.rejects(store.set('f', () => 1, 60), TypeError)
  await t.rejects(store.set('b', 1n, 60), TypeError)
  t.same(await client.keys(`${prefix}*`), [])
})

t.test('invalid TTLs reject before anything reaches Redis', async (t) => {
  const prefix = freshPrefix(t)
  const store = redisStore({ client, prefix })
  await t.rejects(store.checkAndRemember('k', 0), RangeError)
  await t.rejects(store.set('k', 1, -1), RangeError)
  await t.rejects(store.checkAndRemember('k', Number.POSITIVE_INFINITY), RangeError)
  t.same(await client.keys(`${prefix}*`), [])
})

t.test('long caller keys are hashed to a bounded Redis key', async (t) => {
  const prefix = freshPrefix(t)
  const store = redisStore({ client, prefix })
  const hugeJti = 'j'.repeat(100_000)
  t.equal(await store.checkAndRemember(hugeJti, 60), true)
  t.equal(await store.checkAndRemember(hugeJti, 60), false)
  t.equal(await store.checkAndRemember(hugeJti + 'x', 60), true, 'a different long key is distinct')
  await store.set('c'.repeat(MAX_RAW_KEY_LENGTH + 1), { ok: true }, 60)
  t.same(await store.get('c'.repeat(MAX_RAW_KEY_LENGTH + 1)), { ok: true })
  const keys = await client.keys(`${prefix}*`)
  t.equal(keys.length, 3)
  for (const key of keys) t.ok(key.length <= prefix.length + 'replay:#'.length + 43, `${key.length} chars`)
})

t.test('prefixes isolate stores; cache and replay namespaces are separate', async (t) => {
  const a = redisStore({ client, prefix: freshPrefix(t) })
  const b = redisStore({ client, prefix: freshPrefix(t) })
  t.equal(await a.checkAndRemember('k', 60), true)
  t.equal(await b.checkAndRemember('k', 60), true, 'not a replay under another prefix')
  await a.set('doc', 'A', 60)
  t.equal(await b.get('doc'), undefined)
  await b.set('doc', 'B', 60)
  t.equal(await a.get('doc'), 'A')
  await a.set('x', 1, 60)
  t.equal(await a.checkAndRemember('x', 60), true, 'a cache entry is not a remembered proof')
  t.equal(await a.get('k'), undefined, 'a remembered proof is not a cache entry')
})

t.test('default prefix', async (t) => {
  const store = redisStore({ client })
  const key = `test-${randomUUID()}`
  t.teardown(async () => { await client.del(`${DEFAULT_REDIS_PREFIX}replay:${key}`) })
  t.equal(DEFAULT_REDIS_PREFIX, 'fastify-auth0-api:')
  await store.checkAndRemember(key, 60)
  t.equal(await client.exists(`fastify-auth0-api:replay:${key}`), 1)
})
