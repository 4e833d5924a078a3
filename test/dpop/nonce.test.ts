/**
 * Server nonces (RFC 9449 §8–9): the stateless time-window nonce itself (with a clock), then the
 * flow through a real app: challenge, retry, refresh on success, instances sharing a secret.
 */
import t from 'tap'
import { DpopNonces } from '../../lib/dpop/nonce.js'
import { body, dpopChallenge, dpopHarness } from './helpers.js'
import { expectGrammar } from '../helpers/expect.js'

const SECRET = 'a shared secret of at least thirty-two bytes'

t.test('DpopNonces', async (t) => {
  let now = 1_700_000_000_000
  const nonces = new DpopNonces({ secret: SECRET, windowSeconds: 60 }, () => now)
  const first = nonces.current()
  t.match(first, /^[A-Za-z0-9_-]{43}$/, 'base64url of an HMAC-SHA256')
  t.equal(nonces.current(), first, 'stable within a window')
  t.equal(nonces.check(first), 'current')
  now += 60_000
  t.not(nonces.current(), first, 'a new window, a new nonce')
  t.equal(nonces.check(first), 'previous', 'the previous window still passes')
  t.equal(nonces.check(nonces.current()), 'current')
  now += 60_000
  t.equal(nonces.check(first), undefined, 'two windows later it is refused')
  t.equal(nonces.check('short'), undefined, 'another length')
  t.equal(nonces.check('x'.repeat(43)), undefined, 'same length, wrong value')

  t.equal(new DpopNonces({ secret: SECRET, windowSeconds: 60 }, () => now).current(), nonces.current(), 'same secret, same nonce')
  t.equal(new DpopNonces({ secret: Buffer.from(SECRET), windowSeconds: 60 }, () => now).current(), nonces.current(), 'a Uint8Array secret is the same bytes')
  t.not(new DpopNonces({ secret: `${SECRET}!`, windowSeconds: 60 }, () => now).current(), nonces.current(), 'another secret, another nonce')
  t.not(new DpopNonces({ windowSeconds: 60 }, () => now).current(), nonces.current(), 'random secret by default')
  t.not(new DpopNonces({ windowSeconds: 60 }).current(), '', 'real clock by default')

  t.throws(() => new DpopNonces({ secret: 'too short', windowSeconds: 60 }), /dpop\.nonce\.secret must be a string or Uint8Array of at least 32 bytes/)
  t.throws(() => new DpopNonces({ secret: 's'.repeat(31), windowSeconds: 60 }), /dpop\.nonce\.secret/, '31 bytes')
  t.throws(() => new DpopNonces({ secret: new Uint8Array(31), windowSeconds: 60 }), /dpop\.nonce\.secret/, '31 bytes as a Uint8Array')
  t.doesNotThrow(() => new DpopNonces({ secret: 's'.repeat(32), windowSeconds: 60 }), '32 bytes are enough')
  t.doesNotThrow(() => new DpopNonces({ secret: new Uint8Array(32), windowSeconds: 60 }), '32 bytes are enough, as a Uint8Array')
  t.throws(() => new DpopNonces({ secret: 12345 as unknown as string, windowSeconds: 60 }), /dpop\.nonce\.secret/)
})

t.test('DpopNonces: windows are windowSeconds long and start on multiples of it', async (t) => {
  const start = 1_700_000_040_000 // a multiple of 60 000 ms
  let now = start
  const nonces = new DpopNonces({ secret: SECRET, windowSeconds: 60 }, () => now)
  const first = nonces.current()
  now = start + 1
  t.equal(nonces.current(), first, '1 ms into the window')
  now = start + 59_999
  t.equal(nonces.current(), first, 'its last millisecond')
  t.equal(nonces.check(first), 'current')
  now = start + 60_000
  t.not(nonces.current(), first, 'the next window')
  t.equal(nonces.check(first), 'previous')
  now = start - 1
  t.not(nonces.current(), first, 'the millisecond before is the window before')
  t.equal(nonces.check(first), undefined, 'the next window\'s nonce is not accepted as the previous one')
})

const USE_NONCE = 'DPoP proof must carry the current server nonce'

t.test('nonce challenge and retry', async (t) => {
  const h = await dpopHarness(t, { dpop: { nonce: { secret: SECRET, windowSeconds: 300 } } })
  const token = await h.boundToken()

  const first = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private') })
  t.equal(first.statusCode, 401)
  t.same(first.json(), body('use_dpop_nonce', USE_NONCE))
  t.equal(first.headers['www-authenticate'], dpopChallenge('use_dpop_nonce', USE_NONCE))
  expectGrammar(t, first)
  const nonce = first.headers['dpop-nonce'] as string
  t.match(nonce, /^[A-Za-z0-9_-]{43}$/)
  t.equal(nonce, new DpopNonces({ secret: SECRET, windowSeconds: 300 }).current(), 'the current window\'s nonce')

  const retry = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { nonce }) })
  t.equal(retry.statusCode, 200)
  t.equal(retry.headers['dpop-nonce'], undefined, 'a current nonce needs no refresh')

  const stale = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { nonce: 'n'.repeat(43) }) })
  t.equal(stale.statusCode, 401)
  t.same(stale.json(), body('use_dpop_nonce', USE_NONCE))
  t.equal(stale.headers['www-authenticate'], dpopChallenge('use_dpop_nonce', USE_NONCE))
  expectGrammar(t, stale)
  t.equal(stale.headers['dpop-nonce'], nonce)

  const typed = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { claims: { nonce: 7 } }) })
  t.equal(typed.statusCode, 401)
  t.same(typed.json(), body('invalid_dpop_proof', 'DPoP proof nonce must be a string'))
  t.equal(typed.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof nonce must be a string'))
  expectGrammar(t, typed)

  const wrongHtm = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { method: 'POST' }) })
  t.same(wrongHtm.json(), body('invalid_dpop_proof', 'DPoP proof htm does not match the request method'), 'other proof errors come before the nonce')
  t.equal(wrongHtm.headers['dpop-nonce'], undefined)

  const bearer = await h.send({ path: '/private', scheme: 'Bearer', token: await h.bearerToken() })
  t.equal(bearer.statusCode, 200, 'Bearer requests are not concerned')
  t.equal(bearer.headers['dpop-nonce'], undefined)
})

t.test('a nonce from the previous window passes and the response carries the current one', async (t) => {
  const windowSeconds = 60
  const h = await dpopHarness(t, { dpop: { nonce: { secret: SECRET, windowSeconds } } })
  const token = await h.boundToken()
  const previous = new DpopNonces({ secret: SECRET, windowSeconds }, () => Date.now() - windowSeconds * 1000).current()
  const current = new DpopNonces({ secret: SECRET, windowSeconds }).current()
  const res = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { nonce: previous }) })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['dpop-nonce'], current)
  const older = new DpopNonces({ secret: SECRET, windowSeconds }, () => Date.now() - 2 * windowSeconds * 1000).current()
  const refused = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { nonce: older }) })
  t.equal(refused.statusCode, 401)
  t.same(refused.json(), body('use_dpop_nonce', USE_NONCE))
  t.equal(refused.headers['www-authenticate'], dpopChallenge('use_dpop_nonce', USE_NONCE))
  expectGrammar(t, refused)
  t.equal(refused.headers['dpop-nonce'], current)
})

t.test('instances sharing the secret accept each other\'s nonces', async (t) => {
  const a = await dpopHarness(t, { dpop: { nonce: { secret: SECRET } } })
  const b = await dpopHarness(t, { dpop: { nonce: { secret: SECRET } } })
  const tokenA = await a.boundToken()
  const nonce = (await a.send({ path: '/private', token: tokenA, proof: await a.proofFor(tokenA, '/private') })).headers['dpop-nonce'] as string
  const tokenB = await b.boundToken({}, a.key)
  const res = await b.send({ path: '/private', token: tokenB, proof: await a.proofFor(tokenB, '/private', { nonce }) })
  t.equal(res.statusCode, 200)
})

t.test('nonce: true uses a random secret; required mode challenges on DPoP only', async (t) => {
  const h = await dpopHarness(t, { dpop: { nonce: true, mode: 'required' } })
  const token = await h.boundToken()
  const first = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private') })
  t.equal(first.statusCode, 401)
  t.same(first.json(), body('use_dpop_nonce', USE_NONCE))
  t.equal(first.headers['www-authenticate'], `DPoP error="use_dpop_nonce", error_description="${USE_NONCE}", algs="ES256"`)
  expectGrammar(t, first)
  const nonce = first.headers['dpop-nonce'] as string
  t.not(nonce, new DpopNonces({ secret: SECRET, windowSeconds: 300 }).current())
  const retry = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { nonce }) })
  t.equal(retry.statusCode, 200)
})

t.test('nonces off: a nonce claim is ignored', async (t) => {
  const h = await dpopHarness(t, { dpop: { nonce: false } })
  const token = await h.boundToken()
  const res = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private', { nonce: 'anything' }) })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['dpop-nonce'], undefined)
})

t.test('configuration', async (t) => {
  await t.rejects(dpopHarness(t, { dpop: { nonce: { secret: 'short' } } }), /dpop\.nonce\.secret must be a string or Uint8Array of at least 32 bytes/)
  await t.rejects(dpopHarness(t, { dpop: { nonce: { windowSeconds: 5 } } }), /dpop\.nonce\.windowSeconds must be a number of seconds from 10 to 3600/)
})
