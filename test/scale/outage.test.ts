/**
 * The issuer goes down: bounded stale use of known keys, then 503 with Retry-After; what the
 * operator sees (log lines at warn, the onKeySetEvent hook); a cold instance that finds a stale
 * shared document; discovery down while the JWKS is up.
 */
import t from 'tap'
import { MemoryCacheAdapter } from '../../lib/stores/memory-cache.js'
import { createTestIssuer, type TestIssuer } from '../../lib/testing/index.js'
import type { KeySetEvent } from '../../lib/index.js'
import { appWith, captureLogs, get, LEVEL, sleep, until } from './helpers.js'
import { expectGrammar } from '../helpers/expect.js'

async function issuerFor (t: { teardown (fn: () => unknown): void }): Promise<TestIssuer> {
  const issuer = await createTestIssuer()
  t.teardown(() => issuer.close())
  return issuer
}

t.test('within staleIfError known keys keep verifying; beyond it, 503 with Retry-After', async (t) => {
  const issuer = await issuerFor(t)
  const logs = captureLogs()
  const events: KeySetEvent[] = []
  const app = await appWith(t, {
    issuerBaseURL: issuer.issuerBaseURL,
    cache: { ttl: 1, failureBackoff: 1 },
    staleIfError: 2,
    onKeySetEvent: (event) => { events.push(event) }
  }, { logs })
  t.equal((await get(app, await issuer.token())).statusCode, 200)
  t.same(events.map((e) => e.type), ['fetched', 'fetched'])
  t.same(logs.find('fastify-auth0-api: fetched').map((l) => [l.msg, l.level]), [
    ['fastify-auth0-api: fetched discovery', LEVEL.info],
    ['fastify-auth0-api: fetched jwks', LEVEL.info]
  ], 'fetches logged at info')

  issuer.outage({ discovery: 'status-503', jwks: 'status-503' })
  await sleep(1100)
  const token = await issuer.token()
  t.equal((await get(app, token)).statusCode, 200, 'expired, issuer down: cached keys still verify')
  await until(() => logs.find('serving cached keys past expiry').length === 1)
  t.same(logs.find('key fetch failed').map((l) => [l.msg, l.document, l.level]), [
    ['fastify-auth0-api: key fetch failed', 'discovery', LEVEL.warn],
    ['fastify-auth0-api: key fetch failed', 'jwks', LEVEL.warn]
  ], 'discovery fails, the known JWKS URL is tried anyway: both at warn')
  t.match(logs.find('serving cached keys past expiry')[0], { level: LEVEL.warn, issuer: issuer.issuer, expiredSeconds: Number })
  t.match(events.slice(2), [
    { type: 'fetch_failed', document: 'discovery', issuer: issuer.issuer, url: issuer.discoveryUrl, error: Error },
    { type: 'fetch_failed', document: 'jwks', url: issuer.jwksUri, error: Error },
    { type: 'stale', issuer: issuer.issuer }
  ])
  for (let i = 0; i < 20; i++) t.equal((await get(app, token)).statusCode, 200)
  t.equal(logs.find('serving cached keys past expiry').length, 1, 'one stale line per failed attempt, not per request')

  // Past expiry + staleIfError (3 s after the fetch): fail closed.
  await sleep(2100)
  const down = await get(app, token)
  t.equal(down.statusCode, 503)
  t.equal(down.error, 'temporarily_unavailable')
  t.ok(Number(down.headers['retry-after']) >= 1, `Retry-After: ${String(down.headers['retry-after'])}`)
  t.notOk(down.headers['www-authenticate'], 'an outage is not a bad token: no challenge')
  expectGrammar(t, down)
  t.match(logs.find('issuer_unavailable').at(-1), { level: LEVEL.warn }, 'the 503 is logged at warn')
  const forged = await issuer.token({}, { signingKey: (await issuer.foreignKey()).privateKey })
  t.not((await get(app, forged)).statusCode, 200, 'nothing is accepted while down')

  // Within failureBackoff the issuer is left alone.
  const before = issuer.requests.jwks + issuer.requests.discovery
  t.equal((await get(app, token)).statusCode, 503)
  t.equal(issuer.requests.jwks + issuer.requests.discovery, before, 'no new attempt within failureBackoff')

  issuer.restore()
  await sleep(1050)
  t.equal((await get(app, token)).statusCode, 200, 'issuer back: fresh keys')
})

t.test('a new key arriving during an outage: 503 for the refetch, 401 within the cooldown', async (t) => {
  const issuer = await issuerFor(t)
  const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, cache: { cooldown: 1 } })
  t.equal((await get(app, await issuer.token())).statusCode, 200)
  await sleep(1050)
  issuer.outage({ jwks: 'reset' })
  const foreign = await issuer.foreignKey()
  const unknown = await issuer.token({}, { signingKey: foreign.privateKey, header: { kid: 'new' } })
  t.equal((await get(app, unknown)).statusCode, 503, 'cannot tell whether the kid is real: unavailable')
  t.equal((await get(app, unknown)).statusCode, 401, 'next unknown kid within the cooldown: no attempt, invalid')
  t.equal((await get(app, await issuer.token())).statusCode, 200, 'known keys unaffected')
})

t.test('discovery down, JWKS up: keys are refreshed from the known JWKS URL', async (t) => {
  const issuer = await issuerFor(t)
  const logs = captureLogs()
  const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, cache: { ttl: 1 } }, { logs })
  t.equal((await get(app, await issuer.token())).statusCode, 200)
  issuer.outage({ discovery: 'bad-json' })
  await issuer.rotateKeys()
  await sleep(1100)
  const before = issuer.requests.jwks
  const rotated = await issuer.token()
  t.equal((await get(app, rotated)).statusCode, 200, 'the new key is fetched without discovery')
  t.equal(issuer.requests.jwks, before + 1)
  t.match(logs.find('key fetch failed'), [{ document: 'discovery', level: LEVEL.warn }])
  t.equal(logs.find('serving cached keys past expiry').length, 0, 'nothing served stale')
})

t.test('a cold instance during an outage starts from the stale shared documents', async (t) => {
  const issuer = await issuerFor(t)
  const adapter = new MemoryCacheAdapter()
  const options = { issuerBaseURL: issuer.issuerBaseURL, cache: { adapter, ttl: 1 }, staleIfError: 60 }
  const warm = await appWith(t, options)
  t.equal((await get(warm, await issuer.token())).statusCode, 200)
  issuer.outage({ discovery: 'status-503', jwks: 'hang' })
  await sleep(1100)

  const logs = captureLogs()
  const cold = await appWith(t, { ...options, timeout: 200 }, { logs })
  const token = await issuer.token()
  t.equal((await get(cold, token)).statusCode, 200, 'expired shared keys, within staleIfError: verified')
  t.equal(logs.find('serving cached keys past expiry').length, 1, 'and reported as stale use')
  const forged = await issuer.token({}, { signingKey: (await issuer.foreignKey()).privateKey })
  t.equal((await get(cold, forged)).statusCode, 401, 'a forged token is still refused')
  issuer.restore()
})

t.test('a cold instance during an outage with nothing cached: 503, then no attempt within failureBackoff', async (t) => {
  const issuer = await issuerFor(t)
  issuer.outage({ discovery: 'hang' })
  const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, timeout: 200, cache: { failureBackoff: 10 } })
  const token = await issuer.token()
  const started = Date.now()
  const first = await get(app, token)
  t.equal(first.statusCode, 503)
  t.ok(Date.now() - started < 2000, 'the fetch timeout bounds the wait')
  t.equal(first.headers['retry-after'], '10')
  const second = await get(app, token)
  t.equal(second.statusCode, 503)
  t.ok(Number(second.headers['retry-after']) <= 10)
  t.equal(issuer.requests.discovery, 1, 'one attempt')
  issuer.restore()
})

t.test('a hook that throws or rejects never breaks verification; it is logged at error', async (t) => {
  const issuer = await issuerFor(t)
  for (const hook of [() => { throw new Error('metrics down') }, async () => { throw new Error('metrics down') }]) {
    const logs = captureLogs()
    const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL, onKeySetEvent: hook }, { logs })
    t.equal((await get(app, await issuer.token())).statusCode, 200)
    await until(() => logs.find('onKeySetEvent failed').length === 2)
    t.ok(logs.find('onKeySetEvent failed').every((l) => l.level === LEVEL.error))
  }
})

t.test('unusable documents from a reachable issuer: 503, never an accept', async (t) => {
  const issuer = await issuerFor(t)
  const token = await issuer.token()
  // A JWKS URL that answers JSON without keys.
  const noKeys = await appWith(t, { domains: [{ issuer: issuer.issuer, jwksUri: issuer.discoveryUrl }] })
  t.equal((await get(noKeys, token)).statusCode, 503, 'JSON without keys')
  for (const jwksUri of ['not a url', 'ftp://127.0.0.1/jwks.json', 42]) {
    issuer.setDiscovery({ jwks_uri: jwksUri })
    const app = await appWith(t, { issuerBaseURL: issuer.issuerBaseURL })
    const res = await get(app, token)
    t.equal(res.statusCode, 503, `discovery with jwks_uri ${String(jwksUri)}`)
    t.equal(res.error, 'temporarily_unavailable')
  }
  t.equal(issuer.requests.jwks, 0)
})
