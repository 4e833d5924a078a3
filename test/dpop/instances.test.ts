/**
 * Several API instances (docs/dpop.md): with the default in-memory store each instance only knows
 * its own proofs; with the Redis store a proof used on one instance is a replay on every other one;
 * with Redis down, requests fail closed (503); with a shared nonce secret, nonces travel too.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { redisStore } from '../../lib/redis/index.js'
import { startRedis } from '../helpers/redis.js'
import { body, dpopChallenge, dpopHarness } from './helpers.js'
import { expectGrammar } from '../helpers/expect.js'

t.test('in-memory stores are per instance: the documented limit', async (t) => {
  const a = await dpopHarness(t)
  const b = await dpopHarness(t, { issuerBaseURL: a.issuer.issuerBaseURL })
  const token = await a.boundToken()
  const dpop = await a.proofFor(token, '/private')
  t.equal((await a.send({ path: '/private', token, proof: dpop })).statusCode, 200)
  const replay = await a.send({ path: '/private', token, proof: dpop })
  t.equal(replay.statusCode, 401, 'a replay on the same instance is refused')
  t.same(replay.json(), body('invalid_dpop_proof', 'DPoP proof replayed'))
  t.equal(replay.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof replayed'))
  expectGrammar(t, replay)
  t.equal((await b.send({ path: '/private', token, proof: dpop })).statusCode, 200, 'another instance never saw it: use a shared store')
})

t.test('a shared Redis store: a proof used on A is a replay on B', async (t) => {
  const redis = await startRedis(t, { own: true })
  const prefix = `test:${randomUUID()}:`
  // The set-up docs/dpop.md recommends: one Redis store for replay checks and keys, one nonce secret.
  const store = redisStore({ client: redis.client, prefix })
  const shared = { dpop: { replayStore: store, nonce: { secret: 'instances share this nonce secret too' } }, cache: { adapter: store } }
  // Both instances trust the same issuer: B's issuer is A's (one tenant, two API instances).
  const a = await dpopHarness(t, shared)
  const b = await dpopHarness(t, { ...shared, issuerBaseURL: a.issuer.issuerBaseURL })
  const token = await a.boundToken()

  const challenge = await a.send({ path: '/private', token, proof: await a.proofFor(token, '/private') })
  const nonce = challenge.headers['dpop-nonce'] as string
  const dpop = await a.proofFor(token, '/private', { nonce })
  t.equal((await a.send({ path: '/private', token, proof: dpop })).statusCode, 200, 'A accepts it, with A\'s nonce')
  const replay = await b.send({ path: '/private', token, proof: dpop })
  t.equal(replay.statusCode, 401, 'B refuses the replay')
  t.same(replay.json(), body('invalid_dpop_proof', 'DPoP proof replayed'))
  t.equal(replay.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof replayed'))
  expectGrammar(t, replay)
  t.equal((await b.send({ path: '/private', token, proof: await a.proofFor(token, '/private', { nonce }) })).statusCode, 200, 'B accepts a fresh proof with A\'s nonce')

  await redis.stop()
  const down = await b.send({ path: '/private', token, proof: await a.proofFor(token, '/private', { nonce }) })
  t.equal(down.statusCode, 503, 'Redis down: fail closed')
  t.same(down.json(), body('temporarily_unavailable', 'DPoP replay check unavailable'))
  t.equal(down.headers['retry-after'], '5')
  t.equal((await b.send({ path: '/private', scheme: 'Bearer', token: await a.bearerToken() })).statusCode, 200, 'Bearer requests do not need the store')
})
