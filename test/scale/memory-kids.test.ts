/**
 * Memory stays bounded under an unknown-kid flood: 10 000 distinct `kid`s through the plugin cause
 * at most one JWKS refetch per cooldown and leave no per-kid state behind.
 */
import t from 'tap'
import { MemoryCacheAdapter } from '../../lib/stores/memory-cache.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { appWith, CountingAdapter, heapUsed, MiB } from './helpers.js'

// Over real HTTP: Fastify's inject() itself retains about 9 KiB per request (fastify 5.12,
// light-my-request 6.8, Node 20), which would drown what this test looks for.
t.test('10 000 distinct unknown kids: at most one refetch per cooldown, no per-kid state', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(() => issuer.close())
  const adapter = new CountingAdapter(new MemoryCacheAdapter())
  const cooldown = 1
  const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, cache: { cooldown, adapter } })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  const status = async (token: string): Promise<number> => {
    const res = await fetch(`${base}/private`, { headers: { authorization: `Bearer ${token}` } })
    await res.arrayBuffer()
    return res.status
  }
  t.equal(await status(await issuer.token()), 200)
  const foreign = await issuer.foreignKey()
  // One signed token, re-headed per kid: the signature is never reached (no key for the kid).
  const [, payload, signature] = (await issuer.token({}, { signingKey: foreign.privateKey })).split('.') as [string, string, string]
  const tokenFor = (kid: string): string =>
    `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid })).toString('base64url')}.${payload}.${signature}`

  let unexpected = 0
  const flood = async (count: number, kid: (i: number) => string): Promise<void> => {
    for (let i = 0; i < count; i += 100) {
      const statuses = await Promise.all(Array.from({ length: 100 }, async (_, j) => await status(tokenFor(kid(i + j)))))
      unexpected += statuses.filter((s) => s !== 401).length
    }
  }
  // Kids of 2 000 characters: any per-kid state (a negative cache, a counter) keeps its kid, so
  // 10 000 of them would retain about 20 MiB, far above the measuring noise (a few MiB).
  const padding = 'k'.repeat(2000)
  let n = 0
  await flood(2000, () => `warm-${n++}-${padding}`) // JIT, connection pool
  // Control: as many requests with one unknown kid. Whatever the process, the pool and the test
  // runner retain meanwhile, they retain it here too.
  const heapStart = heapUsed()
  await flood(10_000, () => `always-the-same-${padding}`)
  const heapBefore = heapUsed()
  const jwksBefore = issuer.requests.jwks
  const getsBefore = adapter.calls.get
  const started = Date.now()
  await flood(10_000, () => `flood-${n++}-${padding}`)
  const seconds = (Date.now() - started) / 1000
  const heapAfter = heapUsed()

  t.equal(unexpected, 0, 'every unknown kid: 401')
  const refetches = issuer.requests.jwks - jwksBefore
  const allowed = Math.ceil(seconds / cooldown) + 1
  t.ok(refetches <= allowed, `${refetches} JWKS refetches in ${seconds.toFixed(1)} s for 10 000 distinct unknown kids (≤ ${allowed}: one per ${cooldown} s cooldown)`)
  t.ok(adapter.calls.get - getsBefore <= refetches, `${adapter.calls.get - getsBefore} adapter lookups: only refetches look, never a rejected kid`)
  t.equal(issuer.requests.discovery, 1, 'no rediscovery')
  const control = heapBefore - heapStart
  const growth = heapAfter - heapBefore
  const kib = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${(bytes / 1024).toFixed(0)} KiB`
  t.comment(`heap after gc: ${kib(control)} over 10 000 requests with one unknown kid, ${kib(growth)} over 10 000 distinct unknown kids (${(heapAfter / MiB).toFixed(1)} MiB in use)`)
  // jose's createLocalJWKSet caches imported keys per JWK of the set, never per requested kid.
  // The control only discounts what both floods retain: when the heap shrank meanwhile (warm-up
  // garbage freed, -2.3 MiB seen on Node 24), a negative control must not count against the
  // flood. Noise is a few MiB either way; per-kid state would be about 20 MiB, so the bar is 8.
  const excess = growth - Math.max(control, 0)
  t.ok(excess < 8 * MiB, `distinct kids retain ${kib(excess)} more than one repeated kid (< 8 MiB; per-kid state would be about 20 MiB)`)
  t.equal(await status(await issuer.token()), 200, 'the real key still verifies')
})

