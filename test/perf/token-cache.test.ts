/**
 * The verified-token cache, through real Fastify and a real issuer. A cache hit is observed by
 * identity: a token served from the cache hands the route the very same frozen claims object as
 * the request that put it there; a full verification builds a new one.
 */
import dc from 'node:diagnostics_channel'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import auth0Plugin, { type AccessTokenClaims, type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, dpopKey, proof, type DpopKey, type TestIssuer } from '../../lib/testing/index.js'
import { KeyObject } from 'node:crypto'
import { deepFreeze, TokenCache } from '../../lib/jwt/token-cache.js'
import type { IssuerKeys } from '../../lib/keys/issuer-keys.js'
import { b64, rawToken } from './kit.js'
import { expectGrammar } from '../helpers/expect.js'

const AUDIENCE = 'https://api.example.com/'
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

interface App {
  app: FastifyInstance
  /** Claims objects the routes were handed, in order. */
  seen: AccessTokenClaims[]
  get: (token: string | undefined, url?: string, headers?: Record<string, string>) => Promise<LightMyRequestResponse>
}

async function start (t: Test, issuer: TestIssuer, options: Partial<Auth0PluginOptions> = {}): Promise<App> {
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, algorithms: [issuer.currentKey.alg], env: {}, ...options })
  const seen: AccessTokenClaims[] = []
  const echo = async (request: { claims: AccessTokenClaims }): Promise<AccessTokenClaims> => {
    seen.push(request.claims)
    return request.claims
  }
  app.get('/claims', { preHandler: app.requireAuth() }, echo)
  app.get('/scoped', { preHandler: app.requireAuth('read:messages') }, echo)
  app.get('/dpop', { preHandler: app.requireAuth({ dpop: 'required' }) }, echo)
  app.get('/mutate', { preHandler: app.requireAuth() }, async (request) => {
    const attempts = [
      () => { (request.claims as Record<string, unknown>).sub = 'someone-else' },
      () => { (request.claims.cnf as Record<string, unknown>).jkt = 'x' },
      () => { (request.claims.permissions as string[]).push('admin') }
    ]
    return attempts.map((attempt) => { try { attempt(); return 'mutated' } catch (err) { return (err as Error).constructor.name } })
  })
  await app.ready()
  t.teardown(async () => await app.close())
  const get = async (token: string | undefined, url = '/claims', headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    await app.inject({ method: 'GET', url, headers: token === undefined ? headers : { authorization: `Bearer ${token}`, ...headers } })
  return { app, seen, get }
}

async function issuerFor (t: Test, alg = 'RS256'): Promise<TestIssuer> {
  const issuer = await createTestIssuer({ alg })
  t.teardown(async () => await issuer.close())
  return issuer
}

const reason = (res: LightMyRequestResponse): string => `${res.statusCode} ${res.headers['www-authenticate'] as string | undefined ?? ''}`

t.test('a token is remembered at its second full verification, served from the third request on, and only to itself', async (t) => {
  const issuer = await issuerFor(t)
  const { seen, get } = await start(t, issuer)
  const a = await issuer.token({ jti: 'a' })
  // The diagnostics channel says which requests the cache answered.
  const cached: unknown[] = []
  const onAuth = (message: unknown): void => { cached.push((message as { cached?: unknown }).cached) }
  dc.subscribe('fastify-auth0-api:auth', onAuth)
  for (let i = 0; i < 4; i++) t.equal((await get(a)).statusCode, 200)
  dc.unsubscribe('fastify-auth0-api:auth', onAuth)
  t.strictSame(cached, [false, false, true, true], 'published: served from the cache from the third request on')
  t.not(seen[0], seen[1], 'first sighting: verified in full')
  t.equal(seen[1], seen[2], 'second sighting: verified in full and remembered; third: served')
  t.equal(seen[2], seen[3], 'fourth: served')
  t.ok(Object.isFrozen(seen[2]))

  // One signature character changed: never the cached claims.
  const [h, p, s] = a.split('.') as [string, string, string]
  for (const at of [0, s.length >> 1, s.length - 2]) {
    const c = s[at] === 'A' ? 'B' : 'A'
    const res = await get(`${h}.${p}.${s.slice(0, at)}${c}${s.slice(at + 1)}`)
    t.equal(res.statusCode, 401, `signature character ${at} changed`)
    t.match(res.headers['www-authenticate'], /error="invalid_token"/)
    expectGrammar(t, res)
  }
  // A prefix of the token, and the token with more after it.
  t.equal((await get(a.slice(0, -4))).statusCode, 401, 'a prefix')
  t.equal((await get(`${a}AAAA`)).statusCode, 401, 'a longer token')
  t.equal(seen.length, 4)
})

t.test('a cached token with nbf is served while nbf stays in the past', async (t) => {
  const issuer = await issuerFor(t)
  const { seen, get } = await start(t, issuer)
  const a = await issuer.token({ nbf: Math.floor(Date.now() / 1000) - 10 })
  for (let i = 0; i < 3; i++) t.equal((await get(a)).statusCode, 200)
  t.equal(seen[1], seen[2])
})

t.test('tokens sharing all but their last characters each get their own claims', async (t) => {
  const issuer = await issuerFor(t)
  const { seen, get } = await start(t, issuer)
  const now = Math.floor(Date.now() / 1000)
  const long = 'x'.repeat(600)
  const one = await issuer.token({ iat: now, exp: now + 3600, jti: `${long}1` })
  const two = await issuer.token({ iat: now, exp: now + 3600, jti: `${long}2` })
  const [h1, p1] = one.split('.') as [string, string]
  const [h2, p2] = two.split('.') as [string, string]
  t.equal(h1, h2)
  let shared = 0
  while (p1[shared] === p2[shared]) shared++
  t.ok(shared > 700, `the payloads share ${shared} characters`)
  for (let round = 0; round < 3; round++) {
    t.equal((await get(one)).json().jti, `${long}1`)
    t.equal((await get(two)).json().jti, `${long}2`)
  }
  t.equal(seen[2], seen[4], 'one: cached')
  t.equal(seen[3], seen[5], 'two: cached')
  t.not(seen[4], seen[5])
})

t.test('the same signature spelled otherwise is another string: refused, never served the cached claims', async (t) => {
  const issuer = await issuerFor(t, 'ES256')
  const { seen, get } = await start(t, issuer)
  const a = await issuer.token()
  // An ES256 signature is 64 bytes: 86 characters, the last one carrying 2 unused bits.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const respelled = a.slice(0, -1) + (alphabet[alphabet.indexOf(a.at(-1) as string) ^ 1] as string)
  t.equal(Buffer.from(respelled.split('.')[2] as string, 'base64url').compare(Buffer.from(a.split('.')[2] as string, 'base64url')), 0, 'same signature bytes')
  for (let i = 0; i < 3; i++) t.equal((await get(a)).statusCode, 200)
  t.equal(seen[1], seen[2], 'cached')
  const res = await get(respelled)
  t.equal(res.statusCode, 401, 'a non-canonical spelling is not the cached token')
  t.match(res.headers['www-authenticate'], /not a well-formed compact JWS/)
  expectGrammar(t, res)
  t.equal(seen.length, 3)
})

t.test('entries expire with exp: a token that expired while cached is rejected', async (t) => {
  const issuer = await issuerFor(t, 'ES256')
  const { seen, get } = await start(t, issuer, { clockTolerance: 0 })
  const now = Date.now()
  // Expires at the start of a second at least 1.5 s away.
  const exp = Math.ceil((now + 1500) / 1000)
  const a = await issuer.token({ exp })
  for (let i = 0; i < 3; i++) t.equal((await get(a)).statusCode, 200)
  t.equal(seen[1], seen[2], 'cached')
  await sleep(exp * 1000 - Date.now() + 50)
  const res = await get(a)
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /error_description="token expired"/)
  expectGrammar(t, res)
})

t.test('the ttl bound applies even when exp is far away', async (t) => {
  const issuer = await issuerFor(t, 'ES256')
  const { seen, get } = await start(t, issuer, { tokenCache: { ttl: 1 } })
  const a = await issuer.token()
  for (let i = 0; i < 3; i++) await get(a)
  t.equal(seen[1], seen[2], 'cached')
  await sleep(1100)
  t.equal((await get(a)).statusCode, 200)
  t.not(seen[3], seen[2], 'verified in full again after ttl')
})

t.test('key rotation drops the cached tokens', async (t) => {
  const issuer = await issuerFor(t)
  const { seen, get } = await start(t, issuer, { cache: { cooldown: 0 } })
  const old = await issuer.token()
  for (let i = 0; i < 3; i++) t.equal((await get(old)).statusCode, 200)
  t.equal(seen[1], seen[2], 'cached')

  // Keys rotated, the previous one still published: the old token is verified in full again.
  await issuer.rotateKeys({ keepPrevious: true })
  t.equal((await get(await issuer.token())).statusCode, 200, 'a token with the new kid makes the plugin refetch')
  t.equal((await get(old)).statusCode, 200)
  t.not(seen[4], seen[2], 'verified in full after the key set changed')

  // The old key withdrawn: the cached token must now fail.
  for (let i = 0; i < 2; i++) await get(old)
  await issuer.rotateKeys()
  t.equal((await get(await issuer.token())).statusCode, 200)
  const res = await get(old)
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /no matching signing key/)
  expectGrammar(t, res)
})

t.test('every per-request check still runs on a cached token', async (t) => {
  const issuer = await issuerFor(t)
  const { seen, get } = await start(t, issuer)
  const key = await dpopKey()
  const plain = await issuer.token({ scope: 'read:other' })
  const bound = await issuer.token({}, { dpopKey: key })
  for (let i = 0; i < 4; i++) {
    t.equal((await get(plain)).statusCode, 200)
    const scoped = await get(plain, '/scoped')
    t.equal(scoped.statusCode, 403, 'scope checked every time')
    t.match(scoped.headers['www-authenticate'], /insufficient_scope/)
    expectGrammar(t, scoped)
    const asBearer = await get(bound)
    t.equal(asBearer.statusCode, 401, 'a bound token under Bearer, every time')
    t.match(asBearer.headers['www-authenticate'], /DPoP-bound token presented with the Bearer scheme/)
    expectGrammar(t, asBearer)
    const res = await get(undefined, '/dpop', {
      authorization: `DPoP ${bound}`,
      dpop: await proof({ key, url: 'http://localhost:80/dpop', accessToken: bound })
    })
    t.equal(res.statusCode, 200, 'DPoP with a fresh proof')
    const replayProof = await proof({ key, url: 'http://localhost:80/dpop', accessToken: bound, jti: `fixed-${i}` })
    const headers = { authorization: `DPoP ${bound}`, dpop: replayProof }
    t.equal((await get(undefined, '/dpop', headers)).statusCode, 200)
    t.equal((await get(undefined, '/dpop', headers)).statusCode, 401, 'the proof is checked for replay every time')
    const other = await dpopKey()
    t.equal((await get(undefined, '/dpop', { authorization: `DPoP ${bound}`, dpop: await proof({ key: other, url: 'http://localhost:80/dpop', accessToken: bound }) })).statusCode, 401, 'the binding is checked every time')
  }
  t.ok(seen.length > 4)
})

t.test('cached claims are frozen throughout, cache or not', async (t) => {
  const issuer = await issuerFor(t, 'ES256')
  for (const tokenCache of [true, false]) {
    const { get } = await start(t, issuer, { tokenCache })
    const a = await issuer.token({ cnf: {}, permissions: ['read'] })
    for (let i = 0; i < 3; i++) t.same((await get(a, '/mutate')).json(), ['TypeError', 'TypeError', 'TypeError'], `tokenCache ${String(tokenCache)}`)
  }
})

t.test('the issuer policy is asked on every request: a resolver that stops allowing an issuer or an algorithm', async (t) => {
  const issuer = await issuerFor(t)
  let calls = 0
  const { seen, get } = await start(t, issuer, {
    issuerBaseURL: undefined,
    domains: ({ request }) => {
      calls++
      const tenant = request.headers['x-tenant']
      if (tenant === 'none') return []
      return [{ issuer: issuer.issuerBaseURL, algorithms: tenant === 'es' ? ['ES256'] : ['RS256'] }]
    }
  })
  const a = await issuer.token()
  for (let i = 0; i < 3; i++) t.equal((await get(a)).statusCode, 200)
  t.equal(seen[1], seen[2], 'cached')
  const before = calls
  const notAllowed = await get(a, '/claims', { 'x-tenant': 'none' })
  t.equal(notAllowed.statusCode, 401)
  t.match(notAllowed.headers['www-authenticate'], /issuer not allowed/)
  expectGrammar(t, notAllowed)
  const algNotAllowed = await get(a, '/claims', { 'x-tenant': 'es' })
  t.equal(algNotAllowed.statusCode, 401)
  t.match(algNotAllowed.headers['www-authenticate'], /token algorithm not allowed/)
  expectGrammar(t, algNotAllowed)
  t.equal(calls - before, 2, 'the resolver ran once per request, not twice')
  t.equal((await get(a)).statusCode, 200)
  t.equal(seen[3], seen[2], 'still cached for requests it allows')
})

t.test('an issuer whose keys were dropped from the registry is verified in full again', async (t) => {
  const one = await issuerFor(t)
  const two = await issuerFor(t)
  const { seen, get } = await start(t, one, { issuerBaseURL: undefined, domains: [one.issuerBaseURL, two.issuerBaseURL], cache: { maxIssuers: 1 } })
  const a = await one.token()
  for (let i = 0; i < 3; i++) await get(a)
  t.equal(seen[1], seen[2], 'cached')
  t.equal((await get(await two.token())).statusCode, 200, 'the other issuer takes the only registry slot')
  t.equal((await get(a)).statusCode, 200)
  t.not(seen[4], seen[2], 'new keys object: verified in full')
  // The new keys are loaded and fresh now; the entry made under the dropped ones is still not served.
  t.equal((await get(a)).statusCode, 200)
  t.not(seen[5], seen[2], 'not the claims verified under the dropped keys object')
})

t.test('keys past their lifetime: the token is verified in full (and the keys refreshed) rather than served', async (t) => {
  const issuer = await issuerFor(t, 'ES256')
  const { seen, get } = await start(t, issuer, { cache: { ttl: 1 } })
  const a = await issuer.token()
  for (let i = 0; i < 3; i++) await get(a)
  t.equal(seen[1], seen[2], 'cached')
  const fetches = issuer.requests.jwks
  await sleep(1100)
  t.equal((await get(a)).statusCode, 200)
  t.not(seen[3], seen[2], 'verified in full')
  await sleep(100)
  t.ok(issuer.requests.jwks > fetches, 'and the keys were refreshed')
})

t.test('key selection: a kid that is not a string, an ambiguous token, an outage', async (t) => {
  const issuer = await issuerFor(t)
  const { get } = await start(t, issuer, { cache: { cooldown: 0, failureBackoff: 0 } })
  t.equal((await get(await issuer.token())).statusCode, 200)
  for (let i = 0; i < 2; i++) t.equal((await get(await issuer.token({}, { header: { kid: undefined } }))).statusCode, 200, 'no kid, one key')
  const numericKid = await get(await issuer.token({}, { header: { kid: 5 } }))
  t.equal(numericKid.statusCode, 401)
  t.match(numericKid.headers['www-authenticate'], /no matching signing key/)
  expectGrammar(t, numericKid)
  await issuer.rotateKeys({ keepPrevious: true })
  t.equal((await get(await issuer.token())).statusCode, 200)
  const ambiguous = await get(await issuer.token({}, { header: { kid: undefined } }))
  t.equal(ambiguous.statusCode, 401)
  t.match(ambiguous.headers['www-authenticate'], /signing key ambiguous/)
  expectGrammar(t, ambiguous)

  const cold = await issuerFor(t)
  const app = await start(t, cold)
  cold.outage({ discovery: 'status-503' })
  t.equal((await app.get(await cold.token())).statusCode, 503)
})

/** The battery: valid and invalid credentials of every kind, the same strings for both apps. */
async function mintBattery (issuer: TestIssuer): Promise<{ key: DpopKey, tokens: Array<[string, string | undefined, string?]> }> {
  const now = Math.floor(Date.now() / 1000)
  const key = await dpopKey()
  const foreign = await issuer.foreignKey()
  const signer = KeyObject.from(issuer.currentKey.privateKey)
  return {
    key,
    tokens: [
      ['valid', await issuer.token({ jti: 'battery' })],
      ['scoped', await issuer.token({ scope: 'read:messages' }), '/scoped'],
      ['unscoped', await issuer.token({ scope: 'read:other' }), '/scoped'],
      ['expired', await issuer.token({ exp: now - 600 })],
      ['not yet valid', await issuer.token({ nbf: now + 600 })],
      ['iat in the future', await issuer.token({ iat: now + 600 })],
      ['wrong audience', await issuer.token({ aud: 'https://other.example/' })],
      ['wrong issuer', await issuer.token({ iss: 'https://evil.example/' })],
      ['no sub', await issuer.token({ sub: undefined })],
      ['foreign key', await issuer.token({}, { signingKey: foreign.privateKey })],
      ['unknown kid', await issuer.token({}, { header: { kid: 'nope' } })],
      ['crit', rawToken('RS256', signer, b64({ alg: 'RS256', kid: issuer.currentKey.kid, crit: ['x'], x: 1 }), b64({ iss: issuer.issuer, aud: AUDIENCE, sub: 's', iat: now, exp: now + 600 }))],
      ['bound as bearer', await issuer.token({}, { dpopKey: key })],
      ['malformed', 'not-a-token'],
      ['none', undefined]
    ]
  }
}

/** Runs the battery three times (so cached tokens get served); what came back, in order. */
async function runBattery ({ key, tokens }: Awaited<ReturnType<typeof mintBattery>>, get: App['get']): Promise<string[]> {
  const out: string[] = []
  for (let round = 0; round < 3; round++) {
    for (const [name, token, url] of tokens) {
      const res = await get(token, url)
      out.push(`${name}: ${res.statusCode} ${res.body} ${JSON.stringify({ 'www-authenticate': res.headers['www-authenticate'], 'content-type': res.headers['content-type'] })}`)
    }
    const bound = tokens[12]?.[1] as string
    const dpop = await get(undefined, '/dpop', { authorization: `DPoP ${bound}`, dpop: await proof({ key, url: 'http://localhost:80/dpop', accessToken: bound }) })
    out.push(`dpop: ${dpop.statusCode} ${dpop.body}`)
  }
  return out
}

t.test('turning the cache off changes no result', async (t) => {
  const issuer = await issuerFor(t)
  const on = await start(t, issuer)
  const off = await start(t, issuer, { tokenCache: false })
  const battery = await mintBattery(issuer)
  const withCache = await runBattery(battery, on.get)
  const without = await runBattery(battery, off.get)
  t.equal(withCache.length, 48)
  t.same(withCache, without)
  t.ok(on.seen.some((claims, i) => on.seen.indexOf(claims) !== i), 'the cache served some requests')
  t.notOk(off.seen.some((claims, i) => off.seen.indexOf(claims) !== i), 'no claims object was served twice without the cache')
})

t.test('TokenCache on its own', async (t) => {
  let now = 1_000_000_000_000
  const clock = (): number => now
  const keys = { version: 1 } as unknown as IssuerKeys
  const entry = (exp: number): { claims: AccessTokenClaims, keys: IssuerKeys, version: number, alg: string } =>
    ({ claims: { iss: 'i', sub: 's', aud: 'a', iat: 0, exp }, keys, version: 1, alg: 'RS256' })

  t.test('admitted on the second sighting; bounded doorkeeper', async (t) => {
    const cache = new TokenCache({ max: 2, ttl: 300 }, clock)
    const e = entry(now / 1000 + 60)
    cache.set('a', e)
    t.equal(cache.get('a'), undefined, 'not on the first')
    cache.set('a', e)
    t.equal(cache.get('a')?.claims, e.claims, 'on the second')
    cache.set('b', e)
    cache.set('c', e)
    cache.set('d', e)
    cache.set('b', e)
    t.equal(cache.get('b'), undefined, 'the doorkeeper forgot b when it filled up')
    t.equal(cache.size, 1)
  })

  t.test('until exp, at most ttl, never when already expired', async (t) => {
    const cache = new TokenCache({ max: 10, ttl: 300 }, clock)
    const soon = entry(now / 1000 + 10)
    const far = entry(now / 1000 + 3600)
    const past = entry(now / 1000 - 1)
    for (const [token, e] of [['soon', soon], ['far', far], ['past', past]] as const) {
      cache.set(token, e)
      cache.set(token, e)
    }
    t.equal(cache.get('past'), undefined)
    now += 9_999
    t.equal(cache.get('soon')?.claims, soon.claims)
    now += 1
    t.equal(cache.get('soon'), undefined, 'gone at exp')
    t.equal(cache.get('far')?.claims, far.claims)
    now += 290_000
    t.equal(cache.get('far'), undefined, 'gone after ttl')
  })

  t.test('dropped once the key set changed', async (t) => {
    const cache = new TokenCache({ max: 10, ttl: 300 }, clock)
    const e = entry(now / 1000 + 60)
    cache.set('a', e)
    cache.set('a', e)
    t.equal(cache.get('a')?.claims, e.claims)
    ;(keys as { version: number }).version = 2
    t.equal(cache.get('a'), undefined)
    t.equal(cache.size, 0)
  })

  t.test('nothing is stored that could never be served: exp now, or keys replaced during the verification', async (t) => {
    const cache = new TokenCache({ max: 10, ttl: 300 }, clock)
    const expiring = { ...entry(now / 1000), keys: { version: 1 } as unknown as IssuerKeys, version: 1 }
    cache.set('now', expiring)
    cache.set('now', expiring)
    t.equal(cache.size, 0, 'a token expiring this millisecond takes no entry')
    const replaced = { ...entry(now / 1000 + 60), keys: { version: 3 } as unknown as IssuerKeys, version: 2 }
    cache.set('replaced', replaced)
    cache.set('replaced', replaced)
    t.equal(cache.size, 0, 'verified with version 2 of a key set now at 3: no entry')
    t.equal(cache.get('replaced'), undefined)
  })

  t.test('the default clock', async (t) => {
    const cache = new TokenCache({ max: 10, ttl: 300 })
    const e = { ...entry(Date.now() / 1000 + 60), keys: { version: 7 } as unknown as IssuerKeys, version: 7 }
    cache.set('a', e)
    cache.set('a', e)
    t.equal(cache.get('a')?.claims, e.claims)
  })

  t.test('found by a fingerprint, returned only for the very same token string', async (t) => {
    const cache = new TokenCache({ max: 10, ttl: 300 }, clock)
    const tail = 'S'.repeat(32)
    const own = { keys: { version: 3 } as unknown as IssuerKeys, version: 3 }
    const e = { ...entry(now / 1000 + 60), ...own }
    cache.set(`a.b.${tail}`, e)
    cache.set(`a.b.${tail}`, e)
    t.equal(cache.get(`a.b.${tail}`)?.claims, e.claims)
    // Same last 32 characters, so the same fingerprint: a different token never reads the entry.
    for (const other of [`a.c.${tail}`, `x.b.${tail}`, `a.b.${tail}`.slice(1), `.a.b.${tail}`]) {
      t.equal(cache.get(other), undefined, `no entry for ${other.slice(0, 6)}…`)
    }
    // A second valid token with that fingerprint replaces the first (an eviction, never a mix-up).
    const f = { ...entry(now / 1000 + 60), ...own }
    cache.set(`z.z.${tail}`, f)
    cache.set(`z.z.${tail}`, f)
    t.equal(cache.get(`z.z.${tail}`)?.claims, f.claims)
    t.equal(cache.get(`a.b.${tail}`), undefined)
    t.equal(cache.size, 1)
  })

  t.test('deepFreeze', async (t) => {
    const value = deepFreeze({ a: [{ b: 1 }], c: { d: null }, e: 'x' })
    t.ok(Object.isFrozen(value) && Object.isFrozen(value.a) && Object.isFrozen(value.a[0]) && Object.isFrozen(value.c))
  })
})

t.test('the tokenCache option', async (t) => {
  const issuer = await issuerFor(t, 'ES256')
  for (const tokenCache of [true, false, {}, { max: 1 }, { ttl: 1 }, { max: 10_000_000, ttl: 86400 }]) {
    const app = Fastify()
    await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, algorithms: ['ES256'], env: {}, tokenCache })
    await app.ready()
    await app.close()
    t.pass(`accepts ${JSON.stringify(tokenCache)}`)
  }
  const bad: Array<[unknown, RegExp]> = [
    ['yes', /tokenCache must be true, false or/],
    [{ max: 0 }, /tokenCache.max must be an integer from 1 to 10000000/],
    [{ max: 1.5 }, /tokenCache.max/],
    [{ max: 10_000_001 }, /tokenCache.max/],
    [{ ttl: 0 }, /tokenCache.ttl must be a number of seconds from 1 to 86400/],
    [{ ttl: 86401 }, /tokenCache.ttl/]
  ]
  for (const [tokenCache, message] of bad) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, tokenCache: tokenCache as false }) }, message, JSON.stringify(tokenCache))
    await app.close()
  }
})

t.test('the time checks of a cache hit: served only while a full verification would accept, at the very bounds too', async (t) => {
  const issuer = await issuerFor(t)
  const { seen, get } = await start(t, issuer)
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const now = Math.floor(realNow() / 1000)
  // Each token is verified in full twice, then served: its third answer is the second one's object.
  const cache = async (token: string): Promise<AccessTokenClaims> => {
    for (let i = 0; i < 3; i++) t.equal((await get(token)).statusCode, 200)
    t.equal(seen.at(-1), seen.at(-2), 'cached')
    return seen.at(-1) as AccessTokenClaims
  }
  const served = async (token: string, claims: AccessTokenClaims, expected: boolean, name: string): Promise<void> => {
    const res = await get(token)
    if (expected) t.equal(seen.at(-1), claims, `${name}: served from the cache`)
    else t.ok(res.statusCode !== 200 || seen.at(-1) !== claims, `${name}: verified in full`)
  }
  const iatNow = await issuer.token({ iat: now })
  const nbfNow = await issuer.token({ iat: now - 100, nbf: now })
  const exp60 = await issuer.token({ iat: now - 100, exp: now + 60 })
  const claims = { iatNow: await cache(iatNow), nbfNow: await cache(nbfNow), exp60: await cache(exp60) }

  // The clock at the bounds (clockTolerance 5 s): iat = now + 5, nbf = whole seconds + 5, exp = whole seconds - 5 + 1.
  Date.now = () => (now - 5) * 1000
  await served(iatNow, claims.iatNow, true, 'iat exactly clockTolerance ahead')
  Date.now = () => (now - 5) * 1000 + 500
  await served(nbfNow, claims.nbfNow, true, 'nbf exactly clockTolerance ahead of the whole second')
  Date.now = () => (now + 57) * 1000
  await served(exp60, claims.exp60, true, 'exp 3 s ahead')

  // A clock stepped back (NTP): iat or nbf now ahead of it by more than clockTolerance.
  Date.now = () => realNow() - 60_000
  const res = await get(iatNow)
  t.equal(res.statusCode, 401, 'iat 60 s ahead of the clock: refused')
  t.match(res.headers['www-authenticate'], /token issued in the future \(iat\)/)
  await served(nbfNow, claims.nbfNow, false, 'nbf 60 s ahead of the clock')
})

t.test('an issuer identifier rediscovered in another spelling: a token cached under the old one is refused, not served', async (t) => {
  const issuer = await issuerFor(t)
  const withoutSlash = issuer.issuerBaseURL.slice(0, -1)
  // Discovery names the issuer with the slash at first: tokens carry that spelling and are cached.
  const { seen, get } = await start(t, issuer, { issuerBaseURL: withoutSlash, cache: { ttl: 1 } })
  const a = await issuer.token()
  for (let i = 0; i < 3; i++) t.equal((await get(a)).statusCode, 200)
  t.equal(seen[1], seen[2], 'cached')
  // The same keys (same version), but discovery now names the issuer without the slash.
  issuer.setDiscovery({ issuer: withoutSlash })
  await sleep(1100)
  const handedBefore = seen.length
  await get(a) // past ttl: answered with the stale keys while they are refreshed in the background
  // Polled rather than slept on (a loaded CI machine may take seconds to refresh). Until the
  // refresh, stale keys mean a full verification (a new claims object each time); after it, the
  // token must be refused: a cache hit (claims handed before, the same object) would mean it was
  // served under keys now for another issuer.
  let res = await get(a)
  for (let i = 0; i < 200 && res.statusCode === 200; i++) {
    await sleep(50)
    res = await get(a)
  }
  const handed = seen.slice(handedBefore)
  const earlier = new Set(seen.slice(0, handedBefore))
  t.ok(handed.every((claims, i) => !earlier.has(claims) && handed.indexOf(claims) === i), 'every 200 since the rediscovery was a full verification, none a cache hit')
  t.ok(issuer.requests.discovery >= 2, 'rediscovered')
  t.equal(res.statusCode, 401, 'verified in full against the issuer the keys are now for')
  t.match(res.headers['www-authenticate'], /unexpected iss claim value/)
})
