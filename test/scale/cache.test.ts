/**
 * Discovery and JWKS documents through the `CacheAdapter`: shared between apps, freshness from
 * `cache.ttl` and `Cache-Control: max-age`, unknown-kid refetches, and an adapter that fails,
 * hangs or returns junk, which must never fail a request.
 */
import t from 'tap'
import { MemoryCacheAdapter } from '../../lib/stores/memory-cache.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import type { CacheAdapter, KeySetEvent } from '../../lib/index.js'
import { appWith, captureLogs, CountingAdapter, get, LEVEL, sleep, until } from './helpers.js'

const issuer = await createTestIssuer()
t.teardown(() => issuer.close())
const base = { issuerBaseURL: issuer.issuerBaseURL }
const jwksKey = `jwks:${issuer.jwksUri}`
const discoveryKey = `discovery:${issuer.issuer}`

/** Fetches caused by `run`: [discovery, jwks]. */
async function fetches (run: () => Promise<void>): Promise<[number, number]> {
  const before = { ...issuer.requests }
  await run()
  return [issuer.requests.discovery - before.discovery, issuer.requests.jwks - before.jwks]
}

t.test('two apps sharing an adapter: the second one needs no fetch while the documents are fresh', async (t) => {
  const adapter = new CountingAdapter(new MemoryCacheAdapter())
  const first = await appWith(t, { ...base, cache: { adapter } })
  const second = await appWith(t, { ...base, cache: { adapter } })
  t.same(await fetches(async () => { t.equal((await get(first, await issuer.token())).statusCode, 200) }), [1, 1], 'first app: discovery + JWKS')
  t.same(await fetches(async () => { t.equal((await get(second, await issuer.token())).statusCode, 200) }), [0, 0], 'second app: none')
  t.same(adapter.sets.map((s) => s.key), [discoveryKey, jwksKey], 'documents keyed by issuer and JWKS URL')
  t.same(adapter.sets.map((s) => s.ttlSeconds), [600 + 3600, 600 + 3600], 'kept for ttl + staleIfError (stale use in an outage)')
  const stored = await adapter.inner.get(jwksKey) as { body: unknown, fetchedAt: number, ttl: number }
  t.same(stored.body, issuer.jwks(), 'the JWKS document as served')
  t.equal(stored.ttl, 600)
  t.ok(Math.abs(stored.fetchedAt - Date.now()) < 5000)
  const discovery = await adapter.inner.get(discoveryKey) as { body: unknown }
  t.same(discovery.body, { issuer: issuer.issuer, jwks_uri: issuer.jwksUri }, 'discovery reduced to what verification uses')
})

t.test('freshness: cache.ttl, or a shorter Cache-Control max-age (max-age=0 counts as 1 s)', async (t) => {
  const cases: Array<[string | undefined, number, number]> = [
    [undefined, 600, 600],
    ['public, max-age=45', 600, 45],
    ['max-age=99999', 600, 600],
    ['max-age=15, stale-while-revalidate=15, stale-if-error=86400', 600, 15],
    ['max-age=0', 600, 1],
    ['max-age=5', 3, 3],
    ['no-store', 600, 600]
  ]
  t.teardown(() => issuer.setCacheControl({}))
  for (const [header, ttl, expected] of cases) {
    issuer.setCacheControl({ discovery: header, jwks: header })
    const adapter = new CountingAdapter(new MemoryCacheAdapter())
    const app = await appWith(t, { ...base, cache: { adapter, ttl }, staleIfError: 60 })
    t.equal((await get(app, await issuer.token())).statusCode, 200)
    const stored = await adapter.inner.get(jwksKey) as { ttl: number }
    t.equal(stored.ttl, expected, `${header ?? 'no Cache-Control'}, ttl ${ttl}: fresh for ${expected} s`)
    t.same(adapter.sets.map((s) => s.ttlSeconds), [expected + 60, expected + 60])
  }
})

t.test('past expiry: served at once while one refresh runs; the other app then takes it from the adapter', async (t) => {
  const adapter = new MemoryCacheAdapter()
  const first = await appWith(t, { ...base, cache: { adapter, ttl: 1 } })
  const second = await appWith(t, { ...base, cache: { adapter, ttl: 1 } })
  t.same(await fetches(async () => {
    t.equal((await get(first, await issuer.token())).statusCode, 200)
    t.equal((await get(second, await issuer.token())).statusCode, 200)
  }), [1, 1], 'one fetch for both')
  await sleep(1100)
  const jwks = issuer.requests.jwks
  const token = await issuer.token()
  const replies = await Promise.all([get(first, token), get(first, token), get(first, token)])
  t.same(replies.map((r) => r.statusCode), [200, 200, 200], 'expired keys still answer while they are refreshed')
  await until(() => issuer.requests.jwks === jwks + 1)
  await sleep(50)
  t.equal(issuer.requests.jwks, jwks + 1, 'one refresh for the concurrent requests')
  t.same(await fetches(async () => {
    t.equal((await get(second, await issuer.token())).statusCode, 200)
    await sleep(100)
  }), [0, 0], 'the second app refreshes from the adapter')
})

t.test('unknown kid: concurrent misses share one refetch; then one per cooldown', async (t) => {
  const app = await appWith(t, { ...base, cache: { cooldown: 1 } })
  t.equal((await get(app, await issuer.token())).statusCode, 200)
  const foreign = await issuer.foreignKey()
  const early = await issuer.token({}, { signingKey: foreign.privateKey, header: { kid: 'early' } })
  t.same(await fetches(async () => { t.equal((await get(app, early)).statusCode, 401) }), [0, 0], 'the cooldown runs from the first fetch too')
  await sleep(1050)
  const tokens = await Promise.all(Array.from({ length: 200 }, async (_, i) => await issuer.token({}, { signingKey: foreign.privateKey, header: { kid: `unknown-${i}` } })))
  t.same(await fetches(async () => {
    const replies = await Promise.all(tokens.map(async (token) => await get(app, token)))
    t.ok(replies.every((r) => r.statusCode === 401 && r.error === 'invalid_token'), '200 concurrent unknown kids: all 401')
  }), [0, 1], 'one JWKS refetch for all of them')
  t.same(await fetches(async () => {
    t.equal((await get(app, tokens[0] as string)).statusCode, 401)
  }), [0, 0], 'within the cooldown: no refetch')

  // A rotation: the new kid arrives within the cooldown (401), then after it (refetch, 200).
  await issuer.rotateKeys({ keepPrevious: true })
  const rotated = await issuer.token()
  t.equal((await get(app, rotated)).statusCode, 401, 'new kid within the cooldown')
  await sleep(1050)
  t.same(await fetches(async () => { t.equal((await get(app, rotated)).statusCode, 200, 'after the cooldown') }), [0, 1])
})

t.test('unknown kid with a shared adapter: a newer document with that kid from another app saves the fetch', async (t) => {
  const adapter = new MemoryCacheAdapter()
  const first = await appWith(t, { ...base, cache: { adapter, cooldown: 1 } })
  const second = await appWith(t, { ...base, cache: { adapter, cooldown: 1 } })
  t.equal((await get(first, await issuer.token())).statusCode, 200)
  t.equal((await get(second, await issuer.token())).statusCode, 200)
  await sleep(1050)
  await issuer.rotateKeys({ keepPrevious: true })
  const rotated = await issuer.token()
  t.same(await fetches(async () => { t.equal((await get(first, rotated)).statusCode, 200) }), [0, 1], 'first app refetches after the rotation')
  t.same(await fetches(async () => { t.equal((await get(second, rotated)).statusCode, 200) }), [0, 0], 'second app finds the new key in the adapter')
  const foreign = await issuer.foreignKey()
  const unknown = await issuer.token({}, { signingKey: foreign.privateKey, header: { kid: 'nobody' } })
  t.same(await fetches(async () => { t.equal((await get(second, unknown)).statusCode, 401) }), [0, 0], 'a refetch served by the adapter counts for the cooldown too')
  const third = await appWith(t, { ...base, cache: { adapter, cooldown: 0 } })
  t.equal((await get(third, rotated)).statusCode, 200)
  t.same(await fetches(async () => { t.equal((await get(third, unknown)).statusCode, 401) }), [0, 1], 'a kid nobody has: the adapter cannot help, one refetch')
})

/** An adapter whose store is down: every call rejects. */
class DownAdapter implements CacheAdapter {
  async get (): Promise<unknown> { throw new Error('store down') }
  async set (): Promise<void> { throw new Error('store down') }
  async delete (): Promise<void> { throw new Error('store down') }
}

/** An adapter that never answers (a hung connection). */
class HungAdapter implements CacheAdapter {
  async get (): Promise<unknown> { return await new Promise(() => {}) }
  async set (): Promise<void> { await new Promise(() => {}) }
  async delete (): Promise<void> { await new Promise(() => {}) }
}

t.test('an adapter that fails: requests go on with the network, warned in the log and the hook', async (t) => {
  const logs = captureLogs()
  const events: KeySetEvent[] = []
  const app = await appWith(t, { ...base, cache: { adapter: new DownAdapter() }, onKeySetEvent: (e) => { events.push(e) } }, { logs })
  t.same(await fetches(async () => { t.equal((await get(app, await issuer.token())).statusCode, 200) }), [1, 1])
  await until(() => logs.find('cache adapter failed').length === 4)
  const warnings = logs.find('cache adapter failed')
  t.ok(warnings.every((l) => l.level === LEVEL.warn), 'at warn')
  t.same(warnings.map((l) => l.operation).sort(), ['get', 'get', 'set', 'set'])
  t.same(events.filter((e) => e.type === 'cache_failed').map((e) => (e as { key: string }).key).sort(), [discoveryKey, discoveryKey, jwksKey, jwksKey].sort())
  t.same(await fetches(async () => { t.equal((await get(app, await issuer.token())).statusCode, 200) }), [0, 0], 'in-process keys keep serving')
})

t.test('an adapter that hangs: each call gives up after cache.adapterTimeout', async (t) => {
  const logs = captureLogs()
  const app = await appWith(t, { ...base, cache: { adapter: new HungAdapter(), adapterTimeout: 50 } }, { logs })
  const started = Date.now()
  t.equal((await get(app, await issuer.token())).statusCode, 200)
  const elapsed = Date.now() - started
  t.ok(elapsed < 1000, `answered in ${elapsed} ms (two lookups of 50 ms, two fetches)`)
  await until(() => logs.find('cache adapter failed').length === 4)
  t.match(logs.find('cache adapter failed')[0], { level: LEVEL.warn, err: { message: /did not answer within 50 ms/ } })
})

t.test('an adapter that throws synchronously is a failure like any other', async (t) => {
  const adapter = {
    get: () => { throw new Error('sync get') },
    set: () => { throw new Error('sync set') },
    delete: () => { throw new Error('sync delete') }
  } as unknown as CacheAdapter
  const app = await appWith(t, { ...base, cache: { adapter } })
  t.equal((await get(app, await issuer.token())).statusCode, 200)
})

t.test('junk or foreign documents in the adapter are misses, never trusted', async (t) => {
  const other = await createTestIssuer()
  t.teardown(() => other.close())
  const now = Date.now()
  const junk: Array<[string, unknown, unknown]> = [
    ['not an object', 'garbage', 42],
    ['no fetchedAt', { body: { issuer: issuer.issuer, jwks_uri: issuer.jwksUri }, ttl: 600 }, { body: issuer.jwks(), ttl: 600 }],
    ['ttl 0', { body: { issuer: issuer.issuer, jwks_uri: issuer.jwksUri }, fetchedAt: now, ttl: 0 }, { body: issuer.jwks(), fetchedAt: now, ttl: 0 }],
    ['bad bodies', { body: null, fetchedAt: now, ttl: 600 }, { body: { keys: [] }, fetchedAt: now, ttl: 600 }],
    ['bad keys', { body: { issuer: issuer.issuer, jwks_uri: 'ftp://example.com/' }, fetchedAt: now, ttl: 600 }, { body: { keys: [42] }, fetchedAt: now, ttl: 600 }],
    // A discovery document naming another issuer (its JWKS URL must not be followed).
    ['another issuer', { body: { issuer: other.issuer, jwks_uri: other.jwksUri }, fetchedAt: now, ttl: 600 }, undefined],
    ['a malformed key set', { body: { issuer: issuer.issuer, jwks_uri: issuer.jwksUri }, fetchedAt: now, ttl: 600 }, { body: { keys: [[]] }, fetchedAt: now, ttl: 600 }]
  ]
  for (const [name, discovery, jwks] of junk) {
    const adapter = new MemoryCacheAdapter()
    await adapter.set(discoveryKey, discovery, 600)
    if (jwks !== undefined) await adapter.set(jwksKey, jwks, 600)
    const app = await appWith(t, { ...base, cache: { adapter } })
    const counts = await fetches(async () => {
      t.equal((await get(app, await issuer.token())).statusCode, 200, `${name}: verified with fetched keys`)
    })
    t.equal(counts[1], 1, `${name}: JWKS fetched from the issuer`)
    if (name === 'another issuer') {
      t.equal((await get(app, await other.token())).statusCode, 401, "the other issuer's tokens stay refused")
    }
  }
  t.equal(other.requests.discovery + other.requests.jwks, 0)
})

t.test('a cached discovery document is checked like a fetched one: a stale entry is only a fallback', async (t) => {
  const adapter = new MemoryCacheAdapter()
  // Fresh for 10 s from a fetch 20 s ago: expired, so the issuer is asked.
  await adapter.set(discoveryKey, { body: { issuer: issuer.issuer, jwks_uri: issuer.jwksUri }, fetchedAt: Date.now() - 20_000, ttl: 10 }, 600)
  const app = await appWith(t, { ...base, cache: { adapter } })
  t.same(await fetches(async () => { t.equal((await get(app, await issuer.token())).statusCode, 200) }), [1, 1])
})

t.test('start-up validation of the cache options', async (t) => {
  await t.rejects(appWith(t, { ...base, cache: { adapter: {} as CacheAdapter } }), /cache\.adapter must be a CacheAdapter/)
  await t.rejects(appWith(t, { ...base, cache: { adapter: null as unknown as CacheAdapter } }), /cache\.adapter must be a CacheAdapter/)
  await t.rejects(appWith(t, { ...base, cache: { adapterTimeout: 0 } }), /cache\.adapterTimeout must be an integer number of milliseconds from 1 to 10000/)
  await t.rejects(appWith(t, { ...base, cache: { adapterTimeout: 1.5 } }), /cache\.adapterTimeout/)
  await t.rejects(appWith(t, { ...base, cache: { maxIssuers: 1.5 } }), /cache\.maxIssuers must be an integer from 1 to 10000/)
  await t.rejects(appWith(t, { ...base, onKeySetEvent: 'log' as unknown as () => void }), /onKeySetEvent must be a function/)
})
