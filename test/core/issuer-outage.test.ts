/**
 * SPEC §4 row "issuer unreachable" and §6: when discovery or the JWKS cannot be fetched (status,
 * bad JSON, hang, reset, oversized, redirect) and no usable cached keys remain, the answer is 503
 * `temporarily_unavailable` with `Retry-After` and no challenge; the app recovers without a restart.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import type { OutageMode } from '../../lib/testing/index.js'
import { AUDIENCE, harness } from '../helpers/app.js'
import { expectInternal, expectUnavailable } from '../helpers/expect.js'
import { json, scriptedServer, type ScriptedServer } from '../helpers/scripted-server.js'

const MODES: OutageMode[] = ['status-503', 'status-404', 'bad-json', 'hang', 'reset']

for (const endpoint of ['discovery', 'jwks'] as const) {
  for (const mode of MODES) {
    t.test(`${endpoint} ${mode}: 503, then recovery after restore()`, async (t) => {
      const h = await harness(t, { timeout: 200, cache: { failureBackoff: 0 } })
      h.issuer.outage({ [endpoint]: mode })
      const res = await h.app.inject({ url: '/private', headers: await h.bearer() })
      expectUnavailable(t, res)
      t.equal(res.headers['retry-after'], '1', 'failureBackoff 0: retry in a second')
      t.equal(h.issuer.requests[endpoint], 1, `${endpoint} was asked once`)
      if (endpoint === 'discovery') t.equal(h.issuer.requests.jwks, 0, 'no JWKS without discovery')
      // The public route is unaffected, and so are failures that need no keys.
      t.equal((await h.app.inject({ url: '/public' })).statusCode, 200)
      t.equal((await h.app.inject({ url: '/private' })).statusCode, 401)

      h.issuer.restore()
      const ok = await h.app.inject({ url: '/private', headers: await h.bearer() })
      t.equal(ok.statusCode, 200, 'recovered without a restart')
    })
  }
}

t.test('failureBackoff: no new attempt while it runs; Retry-After says how long', async (t) => {
  const h = await harness(t, { cache: { failureBackoff: 2 } })
  h.issuer.outage({ jwks: 'status-503' })
  const first = await h.app.inject({ url: '/private', headers: await h.bearer() })
  expectUnavailable(t, first)
  t.equal(first.headers['retry-after'], '2')
  h.issuer.restore()
  // Inside the backoff: still 503, and the issuer is not asked again.
  const second = await h.app.inject({ url: '/private', headers: await h.bearer() })
  expectUnavailable(t, second)
  t.match(second.headers['retry-after'], /^[12]$/)
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 1 }, 'a down issuer is not hammered')
  await new Promise((resolve) => setTimeout(resolve, 2100))
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  t.strictSame(h.issuer.requests, { discovery: 1, jwks: 2 })
})

t.test('default failureBackoff is 5 s', async (t) => {
  const h = await harness(t)
  h.issuer.outage({ discovery: 'status-503' })
  const res = await h.app.inject({ url: '/private', headers: await h.bearer() })
  expectUnavailable(t, res)
  t.equal(res.headers['retry-after'], '5')
  const again = await h.app.inject({ url: '/private', headers: await h.bearer() })
  expectUnavailable(t, again)
  t.ok(Number(again.headers['retry-after']) >= 1 && Number(again.headers['retry-after']) <= 5)
  t.equal(h.issuer.requests.discovery, 1)
})

/** An app whose issuer is the testing kit, with its JWKS served by a scripted server. */
async function withJwksServer (t: import('tap').Test): Promise<{ app: FastifyInstance, server: ScriptedServer, bearer: () => Promise<{ authorization: string }>, jwks: () => unknown, failures: () => string[] }> {
  const h = await harness(t)
  const server = await scriptedServer()
  const logs: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _e, cb) { logs.push(chunk.toString()); cb() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(auth0Plugin, {
    domains: [{ issuer: h.issuer.issuer, jwksUri: `${server.base}jwks` }],
    audience: AUDIENCE,
    env: {},
    timeout: 300,
    cache: { failureBackoff: 0 }
  })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => {
    await app.close()
    await server.close()
  })
  const failures = (): string[] => logs.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
    .filter((l) => l.msg === 'fastify-auth0-api: key fetch failed').map((l) => l.err.message as string)
  return { app, server, bearer: async () => await h.bearer(), jwks: () => h.issuer.jwks(), failures }
}

t.test('JWKS fetch failures beyond the testing kit: 503 each, recovery after', async (t) => {
  const failures: Array<[string, Parameters<ScriptedServer['on']>[1], RegExp]> = [
    ['declared Content-Length over 512 KiB', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(600 * 1024) })
      res.write('{"keys":[')
    }, /^response too large from /],
    ['chunked body over 512 KiB', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(`{"keys":[],"pad":"${'x'.repeat(600 * 1024)}"}`)
    }, /^response too large from /],
    ['body that stops arriving (timeout while reading)', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
      res.write('{"keys":[')
    }, /^timed out reading /],
    ['connection closed mid-body', (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
      res.write('{"keys":[', () => req.socket.destroy())
    }, /^network error reading /],
    ['204 No Content', (_req, res) => {
      res.writeHead(204)
      res.end()
    }, /^HTTP 204 fetching /],
    ['redirect (not followed)', (_req, res, base) => {
      res.writeHead(302, { location: `${base}elsewhere` })
      res.end()
    }, /^network error fetching /],
    ['500 with a JSON body', (_req, res) => json(res, { keys: [] }, {}, 500), /^HTTP 500 fetching /],
    ['HTML error page with 200', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html>maintenance</html>')
    }, /^invalid JSON from /],
    ['empty key set', (_req, res) => json(res, { keys: [] }), /^no usable "keys" in the JWKS at /],
    ['no keys member', (_req, res) => json(res, { jwks: [] }), /^no usable "keys" in the JWKS at /],
    ['keys not an array', (_req, res) => json(res, { keys: 'k' }), /^no usable "keys" in the JWKS at /],
    ['a key that is not an object', (_req, res) => json(res, { keys: [1] }), /^no usable "keys" in the JWKS at /],
    ['a key that is an array', (_req, res) => json(res, { keys: [[]] }), /^invalid JWKS at /],
    ['JSON null', (_req, res) => json(res, null), /^no usable "keys" in the JWKS at /]
  ]
  for (const [name, handler, message] of failures) {
    await t.test(name, async (t) => {
      const { app, server, bearer, jwks, failures } = await withJwksServer(t)
      server.on('/jwks', handler)
      expectUnavailable(t, await app.inject({ url: '/private', headers: await bearer() }))
      t.equal(failures().length, 1)
      t.match(failures()[0], message, 'the fetch failed for the reason staged')
      t.equal(server.hits['/elsewhere'], undefined, 'no redirect followed')
      server.on('/jwks', (_req, res) => json(res, jwks()))
      t.equal((await app.inject({ url: '/private', headers: await bearer() })).statusCode, 200, 'recovered')
    })
  }
})

t.test('discovery problems', async (t) => {
  await t.test('no jwks_uri: 503', async (t) => {
    const h = await harness(t, { cache: { failureBackoff: 0 } })
    h.issuer.setDiscovery({ jwks_uri: undefined })
    expectUnavailable(t, await h.app.inject({ url: '/private', headers: await h.bearer() }))
    h.issuer.setDiscovery({ jwks_uri: h.issuer.jwksUri })
    t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  })
  for (const jwksUri of ['not a url', 42, 'ftp://127.0.0.1/jwks.json', 'file:///etc/passwd', 'javascript:alert(1)']) {
    await t.test(`jwks_uri ${JSON.stringify(jwksUri)}: refused, 503, nothing else fetched`, async (t) => {
      const h = await harness(t)
      h.issuer.setDiscovery({ jwks_uri: jwksUri })
      expectUnavailable(t, await h.app.inject({ url: '/private', headers: await h.bearer() }))
      t.strictSame(h.issuer.requests, { discovery: 1, jwks: 0 })
    })
  }
  await t.test('discovery naming another issuer: 500, no JWKS fetched; fixed discovery recovers', async (t) => {
    const h = await harness(t, { cache: { failureBackoff: 0 } })
    h.issuer.setDiscovery({ issuer: 'https://evil.example/', jwks_uri: 'https://evil.example/jwks.json' })
    expectInternal(t, await h.app.inject({ url: '/private', headers: await h.bearer() }))
    t.strictSame(h.issuer.requests, { discovery: 1, jwks: 0 })
    h.issuer.setDiscovery({ issuer: h.issuer.issuer, jwks_uri: h.issuer.jwksUri })
    t.equal((await h.app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  })
  for (const issuer of [undefined, 42, '']) {
    await t.test(`discovery "issuer" ${JSON.stringify(issuer)}: 500`, async (t) => {
      const h = await harness(t)
      h.issuer.setDiscovery({ issuer })
      expectInternal(t, await h.app.inject({ url: '/private', headers: await h.bearer() }))
      t.strictSame(h.issuer.requests, { discovery: 1, jwks: 0 })
    })
  }
  for (const body of [['an', 'array'], null, 'a string']) {
    await t.test(`a discovery document that is not an object (${JSON.stringify(body)}): 500, it names no issuer`, async (t) => {
      const server = await scriptedServer()
      t.teardown(async () => await server.close())
      server.on('/.well-known/openid-configuration', (_req, res) => json(res, body))
      const app = Fastify()
      await app.register(auth0Plugin, { issuerBaseURL: server.base, audience: AUDIENCE, env: {} })
      app.get('/private', { preHandler: app.requireAuth() }, async () => ({}))
      t.teardown(async () => await app.close())
      const h = await harness(t)
      expectInternal(t, await app.inject({ url: '/private', headers: await h.bearer({ iss: server.base }) }))
    })
  }
})

t.test('discovery pins the issuer spelling of a path-based issuer', async (t) => {
  const h = await harness(t)
  const server = await scriptedServer()
  t.teardown(async () => await server.close())
  let discovered = ''
  server.on('/tenant/.well-known/openid-configuration', (_req, res) => json(res, { issuer: discovered, jwks_uri: h.issuer.jwksUri }))

  const cases: Array<[string, string, string]> = [
    // configured, discovered, the spelling tokens must carry
    [`${server.base}tenant`, `${server.base}tenant`, `${server.base}tenant`],
    [`${server.base}tenant`, `${server.base}tenant/`, `${server.base}tenant/`],
    [`${server.base}tenant/`, `${server.base}tenant`, `${server.base}tenant`],
    [`${server.base}tenant/`, `${server.base}tenant/`, `${server.base}tenant/`]
  ]
  for (const [configured, doc, exact] of cases) {
    await t.test(`configured ${configured.slice(server.base.length)}, discovered ${doc.slice(server.base.length)}`, async (t) => {
      discovered = doc
      const app = Fastify()
      await app.register(auth0Plugin, { issuerBaseURL: configured, audience: AUDIENCE, env: {} })
      app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ iss: request.claims.iss }))
      t.teardown(async () => await app.close())
      const other = exact.endsWith('/') ? exact.slice(0, -1) : `${exact}/`
      const res = await app.inject({ url: '/private', headers: await h.bearer({ iss: exact }) })
      t.equal(res.statusCode, 200)
      t.strictSame(res.json(), { iss: exact })
      const wrong = await app.inject({ url: '/private', headers: await h.bearer({ iss: other }) })
      t.equal(wrong.statusCode, 401)
      t.equal(wrong.json().detail.error_description, 'unexpected iss claim value')
    })
  }
  await t.test('discovery naming a sub-path is another issuer', async (t) => {
    discovered = `${server.base}tenant/sub`
    const app = Fastify()
    await app.register(auth0Plugin, { issuerBaseURL: `${server.base}tenant`, audience: AUDIENCE, env: {} })
    app.get('/private', { preHandler: app.requireAuth() }, async () => ({}))
    t.teardown(async () => await app.close())
    expectInternal(t, await app.inject({ url: '/private', headers: await h.bearer({ iss: `${server.base}tenant` }) }))
  })
})
