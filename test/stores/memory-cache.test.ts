import t from 'tap'
import { DEFAULT_CACHE_MAX_ENTRIES, MemoryCacheAdapter } from '../../lib/stores/memory-cache.js'
import type { CacheAdapter } from '../../lib/stores/types.js'

t.test('round trip returns the stored document by reference; a miss is undefined', async (t) => {
  const cache: CacheAdapter = new MemoryCacheAdapter()
  const doc = { keys: [{ kid: 'k1', kty: 'RSA' }] }
  t.equal(await cache.get('jwks'), undefined)
  await cache.set('jwks', doc, 600)
  t.equal(await cache.get('jwks'), doc, 'the same object, not a copy')
})

t.test('entries expire after ttlSeconds (injected clock)', async (t) => {
  let now = 0
  const cache = new MemoryCacheAdapter({ now: () => now })
  await cache.set('discovery', { issuer: 'https://a/' }, 10)
  now = 9_999
  t.same(await cache.get('discovery'), { issuer: 'https://a/' })
  now = 10_000
  t.equal(await cache.get('discovery'), undefined)
})

t.test('a sub-millisecond TTL still stores the value briefly', async (t) => {
  let now = 0
  const cache = new MemoryCacheAdapter({ now: () => now })
  await cache.set('k', 1, 0.0001)
  t.equal(await cache.get('k'), 1, 'rounded up to 1 ms')
  now = 1
  t.equal(await cache.get('k'), undefined)
})

t.test('delete removes an entry', async (t) => {
  const cache = new MemoryCacheAdapter()
  await cache.set('k', 'v', 60)
  await cache.delete('k')
  t.equal(await cache.get('k'), undefined)
  await cache.delete('absent')
  t.equal(cache.size, 0)
})

t.test('is bounded: default 200 entries, least recently used evicted first', async (t) => {
  t.equal(DEFAULT_CACHE_MAX_ENTRIES, 200)
  const cache = new MemoryCacheAdapter()
  for (let i = 0; i < 250; i++) await cache.set(`k${i}`, i, 60)
  t.equal(cache.size, 200)
  t.equal(await cache.get('k49'), undefined)
  t.equal(await cache.get('k50'), 50)
})

t.test('maxEntries option; reads keep an entry alive', async (t) => {
  const cache = new MemoryCacheAdapter({ maxEntries: 2 })
  await cache.set('a', 1, 60)
  await cache.set('b', 2, 60)
  t.equal(await cache.get('a'), 1)
  await cache.set('c', 3, 60)
  t.equal(cache.size, 2)
  t.equal(await cache.get('b'), undefined, 'b was the least recently used')
  t.equal(await cache.get('a'), 1)
  t.throws(() => new MemoryCacheAdapter({ maxEntries: 0 }), RangeError)
})

t.test('an invalid TTL rejects (not a synchronous throw) and stores nothing', async (t) => {
  const cache = new MemoryCacheAdapter()
  for (const ttl of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
    const pending = cache.set('k', 1, ttl)
    await t.rejects(pending, RangeError, String(ttl))
  }
  t.equal(cache.size, 0)
})
