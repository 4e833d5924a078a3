import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { redisStore } from '../../lib/redis/index.js'
import { fastFailOptions, startRedis } from '../helpers/redis.js'

// A private server even with REDIS_URL set: these tests kill it.
const redis = await startRedis(t, { own: true })
const store = redisStore({ client: redis.client, prefix: 'outage:' })

/** Asserts that `promise` rejects, and soon: a dead Redis must never leave a request hanging. */
async function rejectsFast (t: Test, promise: Promise<unknown>, what: string): Promise<void> {
  const started = Date.now()
  await t.rejects(promise, Error, `${what} rejects`)
  const elapsed = Date.now() - started
  t.ok(elapsed < 3000, `${what} settled in ${elapsed} ms`)
}

t.test('Redis killed: replay checks and cache calls reject instead of answering', async (t) => {
  t.equal(await store.checkAndRemember('before', 60), true, 'works while Redis is up')
  await store.set('doc', { a: 1 }, 60)

  await redis.stop()
  await rejectsFast(t, store.checkAndRemember('after', 60), 'checkAndRemember (new key)')
  await rejectsFast(t, store.checkAndRemember('before', 60), 'checkAndRemember (known key)')
  await rejectsFast(t, store.get('doc'), 'get')
  await rejectsFast(t, store.set('doc', { a: 2 }, 60), 'set')
  await rejectsFast(t, store.delete('doc'), 'delete')

  await redis.restart()
  // No persistence: a restarted Redis has forgotten everything, which the store reports faithfully.
  t.equal(await store.checkAndRemember('before', 60), true, 'answers again after restart')
  t.equal(await store.get('doc'), undefined)
})

t.test('Redis killed while commands are in flight: they reject', async (t) => {
  // A busy script stalls the server, so the next commands wait for replies that never come.
  const blocker = await redis.newClient()
  const busy = blocker.eval('while true do end', 0)
  busy.catch(() => {})
  const pending = [
    store.checkAndRemember('in-flight', 60),
    store.get('in-flight'),
    store.set('in-flight', 1, 60)
  ]
  for (const p of pending) p.catch(() => {})
  await new Promise((resolve) => setTimeout(resolve, 100))
  await redis.stop()
  await rejectsFast(t, pending[0]!, 'in-flight checkAndRemember')
  await rejectsFast(t, pending[1]!, 'in-flight get')
  await rejectsFast(t, pending[2]!, 'in-flight set')
  await redis.restart()
  t.equal(await store.checkAndRemember('in-flight', 60), true)
})

t.test('Redis never reachable: calls reject', async (t) => {
  await redis.stop()
  t.teardown(() => redis.restart())
  const client = new Redis(redis.url, { ...fastFailOptions, lazyConnect: false })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  const unreachable = redisStore({ client })
  await rejectsFast(t, unreachable.checkAndRemember('k', 60), 'checkAndRemember')
  await rejectsFast(t, unreachable.get('k'), 'get')
})
