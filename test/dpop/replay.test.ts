/**
 * Replay protection (RFC 9449 §11.1): the guard (key, TTL, failing stores) and the flow through a
 * real app with the default in-memory store (lib/stores/memory-replay.ts, tested in test/stores).
 */
import { createHash } from 'node:crypto'
import t from 'tap'
import { ReplayGuard } from '../../lib/dpop/replay.js'
import { InvalidDpopProofError, ReplayStoreUnavailableError, type ReplayStore } from '../../lib/index.js'
import { dpopKey } from '../../lib/testing/index.js'
import { body, dpopChallenge, dpopHarness } from './helpers.js'
import { expectGrammar } from '../helpers/expect.js'

t.test('ReplayGuard', async (t) => {
  const seen: Array<[string, number]> = []
  const recording: ReplayStore = { async checkAndRemember (key, ttl) { seen.push([key, ttl]); return seen.filter(([k]) => k === key).length === 1 } }
  const guard = new ReplayGuard(recording, 330, 1000)
  t.equal(guard.ttlSeconds, 331, 'iatOffset + iatLeeway, plus one second')
  t.equal(new ReplayGuard(recording, 300.25, 1000).ttlSeconds, 302, 'a fractional window rounded up, plus one second')
  await guard.check('JKT', 'the-jti')
  const hash = createHash('sha256').update('the-jti').digest('base64url')
  t.same(seen, [[`JKT.${hash}`, 331]], 'key = thumbprint + SHA-256 of jti')
  await t.rejects(guard.check('JKT', 'the-jti'), new InvalidDpopProofError('proof_replayed', 'DPoP proof replayed'))
  await guard.check('OTHER', 'the-jti')

  const failing = async (store: ReplayStore, timeout = 1000): Promise<ReplayStoreUnavailableError> => {
    const err = await new ReplayGuard(store, 330, timeout).check('k', 'j').catch((e: unknown) => e)
    t.type(err, ReplayStoreUnavailableError)
    return err as ReplayStoreUnavailableError
  }
  const rejected = await failing({ checkAndRemember: async () => { throw new Error('connection refused') } })
  t.match(rejected, { statusCode: 503, error: 'temporarily_unavailable', reason: 'replay_store_failed', retryAfter: 5, error_description: 'DPoP replay check unavailable' })
  t.match((rejected.cause as Error).message, 'connection refused')
  const thrown = await failing({ checkAndRemember: () => { throw new Error('sync throw') } })
  t.match((thrown.cause as Error).message, 'sync throw')
  // An answer in time clears the timer: no Timeout is left behind to fire (or hold the process) later.
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const before = timers()
  await new ReplayGuard({ checkAndRemember: async () => true }, 330, 60_000).check('k', 'fresh')
  t.equal(timers(), before, 'no timer left once the store answered')
  await new ReplayGuard({ checkAndRemember: async () => { throw new Error('down') } }, 330, 60_000).check('k', 'j').catch(() => {})
  t.equal(timers(), before, 'no timer left once the store failed')
  const hung = await failing({ checkAndRemember: async () => await new Promise<boolean>(() => {}) }, 20)
  t.match((hung.cause as Error).message, 'replay store did not answer within 20 ms')
  const odd = await failing({ checkAndRemember: async () => 'yes' as unknown as boolean })
  t.match(odd, { statusCode: 503, error: 'temporarily_unavailable', reason: 'replay_store_failed', retryAfter: 5, error_description: 'DPoP replay check unavailable' }, 'an answer other than a boolean is the store failing')
  t.match((odd.cause as Error).message, 'must resolve true or false')
  // A store that answers at once (checkAndRememberNow) is asked synchronously: its throw is a 503 too.
  const now = await failing({ checkAndRemember: async () => true, checkAndRememberNow: () => { throw new Error('sync store down') } })
  t.match((now.cause as Error).message, 'sync store down')
  t.throws(() => new ReplayGuard({ checkAndRemember: async () => true, checkAndRememberNow: () => { throw new Error('x') } }, 330, 1000).checkNow('k', 'j'),
    ReplayStoreUnavailableError, 'checkNow throws, without a promise')
})

const REPLAYED = 'DPoP proof replayed'

t.test('through the app', async (t) => {
  const h = await dpopHarness(t)
  const token = await h.boundToken()

  await t.test('the same proof twice: the second is a replay', async (t) => {
    const dpop = await h.proofFor(token, '/private')
    t.equal((await h.send({ path: '/private', token, proof: dpop })).statusCode, 200)
    const again = await h.send({ path: '/private', token, proof: dpop })
    t.equal(again.statusCode, 401)
    t.same(again.json(), body('invalid_dpop_proof', REPLAYED))
    t.equal(again.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', REPLAYED))
    expectGrammar(t, again)
  })
  await t.test('the same jti with another key is not a replay (the key is part of the replay key)', async (t) => {
    const jti = 'shared-jti'
    t.equal((await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { jti }) })).statusCode, 200)
    const other = await dpopKey()
    const otherToken = await h.boundToken({}, other)
    const res = await h.send({ path: '/private', token: otherToken, proof: await h.proofFor(otherToken, '/private', { jti, key: other }) })
    t.equal(res.statusCode, 200)
    t.equal(res.json().auth.jkt, other.jkt)
  })
  await t.test('the same key and jti on another URL is a replay too', async (t) => {
    const jti = 'one-use'
    t.equal((await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { jti }) })).statusCode, 200)
    const res = await h.send({ path: '/dir/', token, proof: await h.proofFor(token, '/dir/', { jti }) })
    t.same(res.json(), body('invalid_dpop_proof', REPLAYED))
  })
  await t.test('a request failing on the token does not use up the jti', async (t) => {
    const jti = 'kept'
    const expired = await h.boundToken({ exp: Math.floor(Date.now() / 1000) - 60 })
    const refused = await h.send({ path: '/private', token: expired, proof: await h.proofFor(expired, '/private', { jti }) })
    t.same(refused.json(), body('invalid_token', 'token expired'))
    t.equal(refused.headers['www-authenticate'], 'Bearer realm="api", DPoP error="invalid_token", error_description="token expired", algs="ES256"')
    expectGrammar(t, refused)
    const unbound = await h.bearerToken()
    const notBound = await h.send({ path: '/private', token: unbound, proof: await h.proofFor(unbound, '/private', { jti }) })
    t.same(notBound.json(), body('invalid_token', 'DPoP scheme used with a token that is not DPoP-bound'))
    t.equal((await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { jti }) })).statusCode, 200, 'still usable once')
  })
})

t.test('a custom store, and custom proof windows', async (t) => {
  const seen: Array<[string, number]> = []
  const store: ReplayStore = { async checkAndRemember (key, ttl) { seen.push([key, ttl]); return true } }
  const h = await dpopHarness(t, { dpop: { replayStore: store, iatOffset: 60, iatLeeway: 5 } })
  const token = await h.boundToken()
  t.equal((await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { jti: 'abc' }) })).statusCode, 200)
  t.same(seen, [[`${h.key.jkt}.${createHash('sha256').update('abc').digest('base64url')}`, 66]])
  const old = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { iat: Math.floor(Date.now() / 1000) - 61 }) })
  t.same(old.json(), body('invalid_dpop_proof', 'DPoP proof iat too old'), 'iatOffset 60')
  t.equal(old.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof iat too old'))
  expectGrammar(t, old)
  const ahead = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { iat: Math.ceil(Date.now() / 1000) + 6 }) })
  t.same(ahead.json(), body('invalid_dpop_proof', 'DPoP proof iat in the future'), 'iatLeeway 5')
  t.equal(ahead.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof iat in the future'))
  expectGrammar(t, ahead)
})

t.test('a failing store fails closed with 503', async (t) => {
  const h = await dpopHarness(t, { dpop: { replayStore: { checkAndRemember: async () => { throw new Error('redis down') } } } })
  const token = await h.boundToken()
  const res = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private') })
  t.equal(res.statusCode, 503)
  t.same(res.json(), body('temporarily_unavailable', 'DPoP replay check unavailable'))
  t.equal(res.headers['retry-after'], '5')
  t.equal(res.headers['www-authenticate'], undefined)
  expectGrammar(t, res)
})
