import t from 'tap'
import { DEFAULT_REPLAY_MAX_ENTRIES, MemoryReplayStore } from '../../lib/stores/memory-replay.js'
import type { ReplayStore } from '../../lib/stores/types.js'

t.test('first use is accepted, a second use of the same key is a replay', async (t) => {
  const store: ReplayStore = new MemoryReplayStore()
  t.equal(await store.checkAndRemember('jkt.jti-1', 300), true)
  t.equal(await store.checkAndRemember('jkt.jti-1', 300), false)
  t.equal(await store.checkAndRemember('jkt.jti-1', 300), false, 'and stays one')
  t.equal(await store.checkAndRemember('jkt.jti-2', 300), true, 'another key is independent')
})

t.test('a key is forgotten once its TTL has passed (injected clock)', async (t) => {
  let now = 5_000
  const store = new MemoryReplayStore({ now: () => now })
  t.equal(await store.checkAndRemember('k', 330), true)
  now += 329_999
  t.equal(await store.checkAndRemember('k', 330), false, 'still remembered 1 ms before expiry')
  now += 1
  t.equal(await store.checkAndRemember('k', 330), true, 'accepted again after expiry')
  t.equal(await store.checkAndRemember('k', 330), false, 'and remembered again')
})

t.test('a replay attempt does not extend how long the key is remembered', async (t) => {
  let now = 0
  const store = new MemoryReplayStore({ now: () => now })
  await store.checkAndRemember('k', 10)
  now = 9_000
  t.equal(await store.checkAndRemember('k', 10), false)
  now = 10_000
  t.equal(await store.checkAndRemember('k', 10), true, 'expired at the original deadline')
})

t.test('200 000 distinct keys through a 10 000 cap: size never exceeds the cap', async (t) => {
  const cap = 10_000
  const store = new MemoryReplayStore({ maxEntries: cap })
  let maxSize = 0
  let accepted = 0
  for (let i = 0; i < 200_000; i++) {
    if (await store.checkAndRemember(`key-${i}`, 300)) accepted++
    if (store.size > maxSize) maxSize = store.size
  }
  t.equal(accepted, 200_000, 'every distinct key was a first use')
  t.equal(maxSize, cap)
  t.equal(await store.checkAndRemember('key-199999', 300), false, 'the newest keys are still remembered')
  t.equal(await store.checkAndRemember(`key-${200_000 - cap}`, 300), false, 'down to the cap')
  // The documented trade-off: an evicted live key is accepted once more.
  t.equal(await store.checkAndRemember('key-0', 300), true, 'the oldest were evicted')
  t.equal(store.size, cap)
})

t.test('eviction is oldest-first; replay checks do not promote a key', async (t) => {
  const store = new MemoryReplayStore({ maxEntries: 2 })
  await store.checkAndRemember('a', 60)
  await store.checkAndRemember('b', 60)
  t.equal(await store.checkAndRemember('a', 60), false)
  await store.checkAndRemember('c', 60)
  t.equal(await store.checkAndRemember('b', 60), false, 'b survives')
  t.equal(store.size, 2)
})

t.test('default cap is 100 000 entries', async (t) => {
  t.equal(DEFAULT_REPLAY_MAX_ENTRIES, 100_000)
  const store = new MemoryReplayStore()
  for (let i = 0; i <= DEFAULT_REPLAY_MAX_ENTRIES; i++) await store.checkAndRemember(String(i), 60)
  t.equal(store.size, DEFAULT_REPLAY_MAX_ENTRIES)
  t.equal(await store.checkAndRemember('0', 60), true, 'the first key was evicted')
})

t.test('invalid options and TTLs', async (t) => {
  t.throws(() => new MemoryReplayStore({ maxEntries: -1 }), RangeError)
  const store = new MemoryReplayStore()
  await t.rejects(store.checkAndRemember('k', 0), RangeError)
  await t.rejects(store.checkAndRemember('k', Number.NaN), RangeError)
  t.equal(store.size, 0, 'nothing remembered')
  t.equal(await store.checkAndRemember('k', 1), true)
})
