import t from 'tap'
import { startRedis } from '../helpers/redis.js'

t.test('a missing redis-server binary fails with install instructions', async (t) => {
  await t.rejects(
    startRedis(undefined, { own: true, binary: 'redis-server-that-does-not-exist' }),
    /redis-server-that-does-not-exist not found: install it \(apt-get install -y redis-server\) or set REDIS_URL/
  )
})

t.test('a server that exits at start-up is reported with its output', async (t) => {
  // `false` exits at once with status 1, like a redis-server refusing its configuration.
  await t.rejects(startRedis(undefined, { own: true, binary: 'false' }), /false exited with 1/)
})

t.test('REDIS_URL: the helper connects to it and refuses to stop it', async (t) => {
  const own = await startRedis(t, { own: true })
  const saved = process.env.REDIS_URL
  process.env.REDIS_URL = own.url
  t.teardown(() => {
    if (saved === undefined) delete process.env.REDIS_URL
    else process.env.REDIS_URL = saved
  })
  const shared = await startRedis(t)
  t.equal(shared.external, true)
  t.equal(shared.port, own.port)
  t.equal(await shared.client.ping(), 'PONG')
  await t.rejects(shared.stop(), /cannot stop or restart the Redis given by REDIS_URL/)
  await t.rejects(shared.restart(), /cannot stop or restart/)
  t.equal(await shared.client.ping(), 'PONG', 'still up')
  const second = await shared.newClient()
  t.equal(await second.ping(), 'PONG')
  await shared.close()
  t.equal(second.status, 'end', 'close disconnects every client')
})

t.test('close is idempotent and stops a spawned server', async (t) => {
  const redis = await startRedis(undefined, { own: true })
  t.equal(redis.external, false)
  await redis.close()
  await redis.close()
  t.equal(redis.client.status, 'end')
})

t.test('an unreachable REDIS_URL fails clearly instead of hanging', async (t) => {
  const saved = process.env.REDIS_URL
  // Port 1 on loopback: nothing listens there.
  process.env.REDIS_URL = 'redis://127.0.0.1:1'
  t.teardown(() => {
    if (saved === undefined) delete process.env.REDIS_URL
    else process.env.REDIS_URL = saved
  })
  await t.rejects(startRedis(t), /cannot connect to REDIS_URL redis:\/\/127\.0\.0\.1:1/)
})
