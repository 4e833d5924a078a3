/**
 * Memory stays bounded under a flood of distinct DPoP `jti`s: the in-memory replay store stays
 * under its cap, with 10 000 proofs through the plugin's whole pipeline and 200 000 straight into
 * the store (the pipeline costs about 0.5 ms per proof on a 2-CPU runner: 200 000 would make a
 * two-minute test of the same `checkAndRemember` calls).
 */
import { createHash, createPrivateKey, sign, type JsonWebKey } from 'node:crypto'
import t from 'tap'
import { DEFAULT_REPLAY_MAX_ENTRIES, MemoryReplayStore } from '../../lib/stores/memory-replay.js'
import { createTestIssuer, dpopKey } from '../../lib/testing/index.js'
import { appWith, heapUsed, MiB } from './helpers.js'

t.test('200 000 distinct jtis straight into the default in-memory replay store: it stays under its cap', async (t) => {
  const store = new MemoryReplayStore()
  const jti = (i: number): string => `jkt.${i.toString(36)}-${'x'.repeat(20)}`
  const heapBefore = heapUsed()
  let fresh = 0
  for (let i = 0; i < 100_000; i++) if (await store.checkAndRemember(jti(i), 330)) fresh++
  const heapFull = heapUsed()
  t.equal(store.size, DEFAULT_REPLAY_MAX_ENTRIES, `full after 100 000: ${store.size} entries`)
  t.comment(`replay store at its cap: +${((heapFull - heapBefore) / MiB).toFixed(1)} MiB for ${store.size} entries`)
  for (let i = 100_000; i < 200_000; i++) if (await store.checkAndRemember(jti(i), 330)) fresh++
  const heapAfter = heapUsed()
  t.equal(fresh, 200_000, 'every distinct jti is a first use')
  t.equal(store.size, DEFAULT_REPLAY_MAX_ENTRIES, 'still at the cap after 100 000 more')
  // Unbounded, the second 100 000 would double the footprint; churn in the LRU's Map is far less.
  t.ok(heapAfter - heapFull < (heapFull - heapBefore) / 2, `no growth past the cap (${((heapAfter - heapFull) / MiB).toFixed(1)} MiB for the second 100 000)`)
  t.equal(await store.checkAndRemember(jti(199_999), 330), false, 'a recent proof is still a replay')
})

t.test('10 000 distinct jtis through the plugin: the replay store stays under its cap', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(() => issuer.close())
  const store = new MemoryReplayStore({ maxEntries: 4000 })
  const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, dpop: { replayStore: store } })
  const key = await dpopKey()
  const token = await issuer.token({}, { dpopKey: key })
  const url = 'https://api.example.com/private'
  // Proofs signed with node:crypto directly: same JWS as the testing kit's, ten times faster to make.
  const privateKey = createPrivateKey({ key: key.privateJwk as JsonWebKey, format: 'jwk' })
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk })).toString('base64url')
  const ath = createHash('sha256').update(token).digest('base64url')
  const proofFor = (jti: string): string => {
    const payload = Buffer.from(JSON.stringify({ jti, htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), ath })).toString('base64url')
    return `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
  }
  const verify = async (dpop: string): Promise<number> => {
    try {
      await app.auth0.verify({ method: 'GET', url, headers: { authorization: `DPoP ${token}`, dpop } })
      return 200
    } catch (err) {
      return (err as { statusCode: number }).statusCode
    }
  }
  let accepted = 0
  let largest = 0
  const started = Date.now()
  for (let i = 0; i < 10_000; i += 200) {
    const statuses = await Promise.all(Array.from({ length: 200 }, async (_, j) => await verify(proofFor(`jti-${i + j}`))))
    accepted += statuses.filter((s) => s === 200).length
    largest = Math.max(largest, store.size)
  }
  t.comment(`10 000 proofs verified in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.equal(accepted, 10_000, 'every distinct proof accepted once')
  t.ok(largest <= 4000, `the store never held more than its cap (largest ${largest}, cap 4000)`)
  t.equal(await verify(proofFor('jti-9999')), 401, 'a recent proof replayed: refused')
})
