/**
 * Multiple Custom Domains against two real issuers: list and resolver forms, object entries with
 * a `jwksUri`, per-issuer algorithms, `domain` + `domains`, and the rule that a token naming any
 * other issuer costs no fetch at all.
 */
import t, { type Test } from 'tap'
import { createTestIssuer, type TestIssuer } from '../../lib/testing/index.js'
import type { DomainsResolverContext } from '../../lib/index.js'
import { MemoryCacheAdapter } from '../../lib/stores/memory-cache.js'
import { appWith, captureLogs, CountingAdapter, get, LEVEL } from './helpers.js'
import { expectGrammar } from '../helpers/expect.js'

const a = await createTestIssuer()
const b = await createTestIssuer({ alg: 'ES256' })
t.teardown(async () => { await a.close(); await b.close() })

const counts = (): number[] => [a.requests.discovery, a.requests.jwks, b.requests.discovery, b.requests.jwks]
const both = [a.issuer, { issuer: b.issuer, algorithms: ['ES256'] }]

/** Asserts the block causes no request to either issuer. */
async function noFetch (t: Test, run: () => Promise<void>): Promise<void> {
  const before = counts()
  await run()
  t.same(counts(), before, 'no request reached either issuer')
}

t.test('list form: tokens of both issuers verify, each against its own discovery and keys', async (t) => {
  const app = await appWith(t, { domains: both })
  const before = counts()
  const fromA = await get(app, await a.token({ sub: 'alice' }))
  t.equal(fromA.statusCode, 200)
  t.equal(fromA.body.iss, a.issuer, 'verified iss is the discovered issuer, exactly')
  const fromB = await get(app, await b.token({ sub: 'bob' }))
  t.equal(fromB.statusCode, 200)
  t.equal(fromB.body.iss, b.issuer)
  t.same(counts().map((n, i) => n - (before[i] as number)), [1, 1, 1, 1], 'one discovery and one JWKS fetch per issuer')

  // A's key does not verify a token that claims B, and the reverse.
  const forged = await b.token({}, { signingKey: a.currentKey.privateKey, header: { alg: 'RS256', kid: b.currentKey.kid } })
  t.equal((await get(app, forged)).error, 'invalid_token', 'RS256 token naming B is refused (B allows ES256 only)')
  const crossed = await a.token({}, { signingKey: b.currentKey.privateKey, header: { alg: 'ES256', kid: b.currentKey.kid } })
  const res = await get(app, crossed)
  t.equal(res.statusCode, 401, "a token naming A signed with B's key is refused")
  t.equal(res.error, 'invalid_token')
})

t.test('a token naming an issuer that is not allowed: 401 and zero fetches on both issuers', async (t) => {
  const app = await appWith(t, { domains: both })
  const other = await createTestIssuer()
  t.teardown(() => other.close())
  await noFetch(t, async () => {
    for (const iss of [other.issuer, 'https://attacker.example.com/', a.issuer.slice(0, -1), a.issuer.toUpperCase(), `${a.issuer}x/`]) {
      const res = await get(app, await other.token({ iss }))
      t.equal(res.statusCode, 401, `iss ${iss}`)
      t.equal(res.error, 'invalid_token')
      t.match(res.headers['www-authenticate'], /error="invalid_token"/)
      expectGrammar(t, res)
    }
  })
  t.equal(other.requests.discovery + other.requests.jwks, 0, 'the named issuer is never contacted')
})

t.test('per-issuer algorithms are checked before any fetch', async (t) => {
  const app = await appWith(t, { domains: both })
  await noFetch(t, async () => {
    const es256ForA = await a.token({}, { signingKey: b.currentKey.privateKey, header: { alg: 'ES256' } })
    t.equal((await get(app, es256ForA)).statusCode, 401, 'ES256 token naming A (RS256 only)')
    const rs256ForB = await b.token({}, { signingKey: a.currentKey.privateKey, header: { alg: 'RS256' } })
    t.equal((await get(app, rs256ForB)).statusCode, 401, 'RS256 token naming B (ES256 only)')
  })
})

t.test('resolver form, sync and async: receives the unverified iss and the request', async (t) => {
  for (const kind of ['sync', 'async'] as const) {
    const seen: DomainsResolverContext[] = []
    const resolver = (context: DomainsResolverContext): string[] => {
      seen.push(context)
      // Decide from the request (e.g. the Host the client used), never from the unverified iss.
      return context.request.headers['x-tenant'] === 'b' ? [b.issuer] : [a.issuer]
    }
    const app = await appWith(t, {
      algorithms: ['RS256', 'ES256'],
      domains: kind === 'sync' ? resolver : async (context) => await Promise.resolve(resolver(context))
    })
    const tokenA = await a.token()
    const ok = await app.inject({ url: '/private', headers: { authorization: `Bearer ${tokenA}` } })
    t.equal(ok.statusCode, 200, `${kind}: A allowed for this request`)
    t.equal(seen[0]?.unverifiedIss, a.issuer, `${kind}: resolver sees the unverified iss`)
    t.equal(seen[0]?.request.method, 'GET')
    t.equal(seen[0]?.request.url, '/private')
    t.equal(typeof seen[0]?.request.headers, 'object')

    const okB = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await b.token()}`, 'x-tenant': 'b' } })
    t.equal(okB.statusCode, 200, `${kind}: B allowed for tenant b`)
    await noFetch(t, async () => {
      const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${tokenA}`, 'x-tenant': 'b' } })
      t.equal(res.statusCode, 401, `${kind}: A not allowed for tenant b`)
      t.match(res.body, /invalid_token/)
    })
  }
})

t.test('resolver returning an empty list allows nothing: 401', async (t) => {
  const app = await appWith(t, { domains: () => [] })
  await noFetch(t, async () => {
    const res = await get(app, await a.token())
    t.equal(res.statusCode, 401)
    t.equal(res.error, 'invalid_token')
  })
})

t.test('resolver throwing, rejecting or returning junk: 500, logged, never an accept', async (t) => {
  const junk: Array<[string, () => unknown]> = [
    ['throws', () => { throw new Error('tenant database down') }],
    ['rejects', async () => { throw new Error('tenant database down') }],
    ['returns a string', () => a.issuer],
    ['returns undefined', () => undefined],
    ['returns an object', () => ({ issuer: a.issuer })],
    ['returns a number in the list', () => [42, a.issuer]],
    ['returns an entry without issuer', () => [{ jwksUri: a.jwksUri }, a.issuer]],
    ['returns a plain-http non-loopback issuer', () => ['http://tenant.example.com/', a.issuer]],
    ['returns an entry with HS256', () => [{ issuer: a.issuer, algorithms: ['HS256'] }]],
    ['returns a URL with a query', () => [`${a.issuer}?x=1`, a.issuer]]
  ]
  for (const [name, resolver] of junk) {
    const logs = captureLogs()
    const app = await appWith(t, { domains: resolver as () => string[] }, { logs })
    await noFetch(t, async () => {
      const res = await get(app, await a.token())
      t.equal(res.statusCode, 500, `${name}: 500`)
      t.equal(res.error, 'internal_server_error')
      t.notOk(res.headers['www-authenticate'], `${name}: no challenge`)
      expectGrammar(t, res)
    })
    t.match(logs.find('domains_resolver_failed'), [{ level: LEVEL.error, reason: 'domains_resolver_failed', err: { message: String } }], `${name}: logged at error with the cause`)
  }
})

t.test('object entries with a jwksUri: no discovery, the entry pins the issuer', async (t) => {
  const app = await appWith(t, { domains: [{ issuer: a.issuer, jwksUri: a.jwksUri }, { issuer: b.issuer, jwksUri: b.jwksUri, algorithms: ['ES256'] }] })
  const before = counts()
  t.equal((await get(app, await a.token())).statusCode, 200)
  t.equal((await get(app, await b.token())).statusCode, 200)
  t.same(counts().map((n, i) => n - (before[i] as number)), [0, 1, 0, 1], 'JWKS fetched, discovery never')
  // Discovery is skipped entirely: even one that names another issuer is never read.
  a.setDiscovery({ issuer: 'https://elsewhere.example.com/' })
  t.teardown(() => a.setDiscovery({ issuer: a.issuer }))
  t.equal((await get(app, await a.token())).statusCode, 200)
})

t.test('jwksUri must be https (http only on loopback)', async (t) => {
  await t.rejects(appWith(t, { domains: [{ issuer: a.issuer, jwksUri: 'http://keys.internal.example/jwks.json' }] }), /domains\[0\]\.jwksUri must use https/)
  await t.rejects(appWith(t, { domains: [{ issuer: a.issuer, jwksUri: 'not a url' }] }), /domains\[0\]\.jwksUri must be an absolute URL/)
})

t.test('domain and domains together: domains decides verification', async (t) => {
  const app = await appWith(t, { domain: 'tenant.example.com', domains: [a.issuer] })
  t.equal((await get(app, await a.token())).statusCode, 200, 'a domains issuer verifies')
  await noFetch(t, async () => {
    const res = await get(app, await a.token({ iss: 'https://tenant.example.com/' }))
    t.equal(res.statusCode, 401, 'the domain issuer is not in domains')
  })
})

t.test('discovery naming another issuer: 500, never an accept', async (t) => {
  const c = await createTestIssuer()
  t.teardown(() => c.close())
  c.setDiscovery({ issuer: 'https://elsewhere.example.com/' })
  const app = await appWith(t, { domains: [c.issuer] })
  const res = await get(app, await c.token())
  t.equal(res.statusCode, 500)
  t.equal(res.error, 'internal_server_error')
})

t.test('maxIssuers bounds the issuers held: the least recently used is dropped, its documents stay in the adapter', async (t) => {
  const issuers: TestIssuer[] = []
  for (let i = 0; i < 3; i++) issuers.push(await createTestIssuer())
  t.teardown(async () => { for (const issuer of issuers) await issuer.close() })
  const [x, y, z] = issuers as [TestIssuer, TestIssuer, TestIssuer]
  const adapter = new CountingAdapter(new MemoryCacheAdapter())
  const app = await appWith(t, { domains: issuers.map((i) => i.issuer), cache: { maxIssuers: 2, adapter } })
  for (const issuer of [x, y, x, z, x]) t.equal((await get(app, await issuer.token())).statusCode, 200)
  t.same([x.requests.jwks, y.requests.jwks, z.requests.jwks], [1, 1, 1], 'one JWKS fetch each')
  t.equal(adapter.calls.get, 6, 'discovery + JWKS looked up once per issuer: x stayed held (recently used)')
  t.equal((await get(app, await y.token())).statusCode, 200)
  t.equal(adapter.calls.get, 8, 'y was dropped (least recently used) and had to be rebuilt')
  t.same([y.requests.discovery, y.requests.jwks], [1, 1], 'from the documents in the adapter, without a fetch')

  // Without an adapter the held issuers are the only cache: a dropped one is fetched again.
  const bare = await appWith(t, { domains: issuers.map((i) => i.issuer), cache: { maxIssuers: 2 } })
  for (const issuer of [x, y, x, z, x, y]) t.equal((await get(bare, await issuer.token())).statusCode, 200)
  t.same([x.requests.jwks, y.requests.jwks, z.requests.jwks], [2, 3, 2], 'y fetched twice by this app')
})

t.test('path issuers: the other trailing-slash spelling is allowed only when discovery can pin it', async (t) => {
  const pathIssuer = `${a.issuer}tenant-a`
  const app = await appWith(t, {
    domains: [pathIssuer, `${b.issuer}tenant-b/`, `${b.issuer}tenant-b`, { issuer: `${a.issuer}pinned`, jwksUri: a.jwksUri }]
  })
  const status = async (iss: string): Promise<number> => (await get(app, await a.token({ iss }))).statusCode
  // Allowed issuers go on to discovery, which this test issuer does not serve under a path: 503.
  t.equal(await status(pathIssuer), 503, 'as configured: allowed')
  t.equal(await status(`${pathIssuer}/`), 503, 'with a trailing slash: allowed (discovery pins the form)')
  t.equal(await status(`${b.issuer}tenant-b`), 503)
  await noFetch(t, async () => {
    t.equal(await status(`${a.issuer}pinned/`), 401, 'jwksUri entry: only the configured spelling')
    t.equal(await status(`${pathIssuer}//`), 401)
    t.equal((await get(app, await a.token({ iss: undefined }))).statusCode, 401, 'no iss at all')
  })
  t.equal(await status(`${a.issuer}pinned`), 200, 'the pinned issuer itself verifies with its JWKS')

  const resolved = await appWith(t, { domains: () => [pathIssuer] })
  t.equal((await get(resolved, await a.token({ iss: `${pathIssuer}/` }))).statusCode, 503, 'resolver entries get the same rule')
})

t.test('domains are checked at start-up', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /domains must be a non-empty array/],
    ['tenant.example.com', /domains must be an array of domains \/ issuer URLs, or a/],
    [[''], /domains\[0\] must be a domain, an issuer URL or/],
    [[null], /domains\[0\] must be a domain/],
    [[a.issuer, { issuer: a.issuer, jwksUri: 42 }], /domains\[1\]\.jwksUri must be an https URL/],
    [[{ issuer: a.issuer, algorithms: ['HS256'] }], /domains\[0\]\.algorithms must not contain HS256/],
    [['https://tenant.example.com/?x'], /domains\[0\] must not contain credentials, a query or a fragment/],
    [['http://tenant.example.com/'], /domains\[0\] must use https/]
  ]
  for (const [domains, message] of cases) {
    await t.rejects(appWith(t, { domains: domains as string[] }), message, JSON.stringify(domains))
  }
})
