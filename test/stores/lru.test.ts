import t from 'tap'
import { LruCache } from '../../lib/stores/lru.js'

function clock (start = 1_000_000): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

t.test('rejects a maxEntries that is not a positive integer', async (t) => {
  for (const maxEntries of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => new LruCache({ maxEntries }), RangeError, String(maxEntries))
  }
  t.equal(new LruCache({ maxEntries: 1 }).maxEntries, 1)
})

t.test('stores and returns values; absent keys are undefined', async (t) => {
  const lru = new LruCache<string, number>({ maxEntries: 3 })
  t.equal(lru.get('a'), undefined)
  t.equal(lru.peek('a'), undefined)
  lru.set('a', 1, 1000)
  lru.set('b', 2, 1000)
  t.equal(lru.get('a'), 1)
  t.equal(lru.peek('b'), 2)
  t.equal(lru.size, 2)
})

t.test('evicts the least recently used entry; get counts as a use', async (t) => {
  const lru = new LruCache<string, string>({ maxEntries: 3 })
  lru.set('a', 'A', 1000)
  lru.set('b', 'B', 1000)
  lru.set('c', 'C', 1000)
  t.equal(lru.get('a'), 'A') // a is now the most recent; b the least
  lru.set('d', 'D', 1000)
  t.equal(lru.size, 3)
  t.equal(lru.peek('b'), undefined, 'b evicted')
  t.same([lru.peek('a'), lru.peek('c'), lru.peek('d')], ['A', 'C', 'D'])
  lru.set('e', 'E', 1000)
  t.equal(lru.peek('c'), undefined, 'then c, the next least recently used')
})

t.test('the most recent entry read again keeps its place; recency stays exact around it', async (t) => {
  const lru = new LruCache<string, string>({ maxEntries: 3 })
  lru.set('a', 'A', 1000)
  lru.set('b', 'B', 1000)
  lru.set('c', 'C', 1000)
  t.equal(lru.get('c'), 'C')
  t.equal(lru.get('c'), 'C', 'read twice: still the most recent')
  t.equal(lru.get('a'), 'A')
  t.equal(lru.get('a'), 'A')
  lru.set('d', 'D', 1000)
  t.equal(lru.peek('b'), undefined, 'b, the least recently used, evicted')
  // The newest entry deleted: the next read of another key must move it.
  t.ok(lru.delete('d'))
  t.equal(lru.get('c'), 'C')
  lru.set('e', 'E', 1000)
  lru.set('f', 'F', 1000)
  t.equal(lru.peek('a'), undefined, 'a evicted: c was moved after it')
  t.equal(lru.peek('c'), 'C')
  lru.clear()
  lru.set('x', 'X', 1000)
  t.equal(lru.get('x'), 'X')
  t.equal(lru.size, 1)
})

t.test('peek does not change the eviction order', async (t) => {
  const lru = new LruCache<string, string>({ maxEntries: 2 })
  lru.set('a', 'A', 1000)
  lru.set('b', 'B', 1000)
  t.equal(lru.peek('a'), 'A')
  lru.set('c', 'C', 1000)
  t.equal(lru.peek('a'), undefined, 'a still evicted first')
  t.equal(lru.peek('b'), 'B')
})

t.test('overwriting replaces the value and refreshes position without evicting', async (t) => {
  const lru = new LruCache<string, string>({ maxEntries: 2 })
  lru.set('a', 'A', 1000)
  lru.set('b', 'B', 1000)
  lru.set('a', 'A2', 1000)
  t.equal(lru.size, 2, 'an overwrite at the cap evicts nothing')
  t.equal(lru.peek('b'), 'B')
  lru.set('c', 'C', 1000)
  t.equal(lru.peek('b'), undefined, 'b is now the least recently used')
  t.equal(lru.peek('a'), 'A2')
})

t.test('entries expire after their own TTL (injected clock)', async (t) => {
  const c = clock()
  const lru = new LruCache<string, number>({ maxEntries: 10, now: c.now })
  lru.set('short', 1, 100)
  lru.set('long', 2, 1000)
  c.advance(99)
  t.equal(lru.get('short'), 1, 'alive 1 ms before expiry')
  c.advance(1)
  t.equal(lru.get('short'), undefined, 'gone at expiry')
  t.equal(lru.size, 1, 'the expired entry is dropped when read')
  t.equal(lru.get('long'), 2)
  c.advance(900)
  t.equal(lru.peek('long'), undefined, 'peek sees expiry too')
  t.equal(lru.size, 0)
})

t.test('overwriting resets the expiry', async (t) => {
  const c = clock()
  const lru = new LruCache<string, number>({ maxEntries: 10, now: c.now })
  lru.set('k', 1, 100)
  c.advance(80)
  lru.set('k', 2, 100)
  c.advance(80)
  t.equal(lru.get('k'), 2)
})

t.test('an Infinity TTL never expires', async (t) => {
  const c = clock()
  const lru = new LruCache<string, number>({ maxEntries: 10, now: c.now })
  lru.set('k', 1, Number.POSITIVE_INFINITY)
  c.advance(Number.MAX_SAFE_INTEGER)
  t.equal(lru.get('k'), 1)
})

t.test('rejects a TTL that is not > 0 and stores nothing', async (t) => {
  const lru = new LruCache<string, number>({ maxEntries: 10 })
  for (const ttl of [0, -1, Number.NaN]) {
    t.throws(() => lru.set('k', 1, ttl), RangeError, String(ttl))
  }
  t.equal(lru.size, 0)
})

t.test('delete and clear', async (t) => {
  const lru = new LruCache<string, number>({ maxEntries: 10 })
  lru.set('a', 1, 1000)
  lru.set('b', 2, 1000)
  t.equal(lru.delete('a'), true)
  t.equal(lru.delete('a'), false, 'deleting an absent key reports false')
  t.equal(lru.get('a'), undefined)
  t.equal(lru.size, 1)
  lru.clear()
  t.equal(lru.size, 0)
  t.equal(lru.get('b'), undefined)
})

t.test('never holds more than maxEntries and keeps the most recent ones', async (t) => {
  const lru = new LruCache<number, number>({ maxEntries: 10 })
  let maxSeen = 0
  for (let i = 0; i < 1000; i++) {
    lru.set(i, i, 1000)
    maxSeen = Math.max(maxSeen, lru.size)
  }
  t.equal(maxSeen, 10)
  t.equal(lru.peek(989), undefined)
  t.equal(lru.peek(990), 990)
  t.equal(lru.peek(999), 999)
})

t.test('uses Date.now by default', async (t) => {
  const lru = new LruCache<string, number>({ maxEntries: 1 })
  lru.set('k', 1, 20)
  t.equal(lru.get('k'), 1)
  await new Promise((resolve) => setTimeout(resolve, 40))
  t.equal(lru.get('k'), undefined)
})
