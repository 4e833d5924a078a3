/**
 * SPEC §2 `domain` and §6 over real TLS: a `domain` issuer is `https://{domain}/` exactly (a token
 * naming it without the slash costs no fetch), and a non-loopback issuer's discovery must name an
 * https `jwks_uri`. The issuer here is an HTTPS server with a self-signed test certificate.
 */
import t from 'tap'
import Fastify from 'fastify'
import auth0Plugin from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { expectInvalidToken, expectUnavailable } from '../helpers/expect.js'
import { json, scriptedServer } from '../helpers/scripted-server.js'
import { startupError } from '../helpers/startup.js'

// The certificate is self-signed and Node 20 cannot add a CA at run time: this test process (tap
// runs each file in its own) skips certificate verification. Only this file's fetches are affected.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
process.removeAllListeners('warning')

const kit = await createTestIssuer()
t.teardown(async () => await kit.close())

/** An HTTPS issuer on `host` whose discovery names `jwksUri(base)`, keys from the testing kit. */
async function httpsIssuer (t: import('tap').Test, host: string, jwksUri: (base: string) => string): Promise<Awaited<ReturnType<typeof scriptedServer>>> {
  const server = await scriptedServer({ tls: true, host })
  t.teardown(async () => await server.close())
  server.on('/.well-known/openid-configuration', (_req, res, base) => json(res, { issuer: base, jwks_uri: jwksUri(base) }))
  server.on('/.well-known/jwks.json', (_req, res) => json(res, kit.jwks()))
  return server
}

t.test('domain: issuer https://{domain}/ over TLS; iss without the slash costs no fetch', async (t) => {
  const server = await httpsIssuer(t, '127.0.0.1', (base) => `${base}.well-known/jwks.json`)
  const app = Fastify()
  await app.register(auth0Plugin, { domain: `127.0.0.1:${server.port}`, audience: AUDIENCE, env: {} })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ iss: request.claims.iss }))
  t.teardown(async () => await app.close())

  for (const iss of [server.base.slice(0, -1), `${server.base}/`, server.base.replace('https:', 'http:')]) {
    expectInvalidToken(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${await kit.token({ iss })}` } }), 'issuer not allowed')
  }
  t.strictSame(server.hits, {}, 'no request reached the issuer')

  const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await kit.token({ iss: server.base })}` } })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { iss: server.base })
  t.strictSame(server.hits, { '/.well-known/openid-configuration': 1, '/.well-known/jwks.json': 1 })
})

t.test('a non-loopback https issuer whose discovery names an http jwks_uri is refused', async (t) => {
  // 0.0.0.0 reaches this machine but is not a loopback name: the issuer counts as remote.
  const server = await httpsIssuer(t, '0.0.0.0', () => kit.jwksUri)
  t.match(kit.jwksUri, /^http:\/\//)
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: server.base, audience: AUDIENCE, env: {} })
  app.get('/private', { preHandler: app.requireAuth() }, async () => ({}))
  t.teardown(async () => await app.close())
  const before = kit.requests.jwks
  expectUnavailable(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${await kit.token({ iss: server.base })}` } }))
  t.equal(server.hits['/.well-known/openid-configuration'], 1)
  t.equal(kit.requests.jwks, before, 'the http JWKS was never fetched')
})

t.test('the same issuer with an https jwks_uri verifies (positive control)', async (t) => {
  const server = await httpsIssuer(t, '0.0.0.0', (base) => `${base}.well-known/jwks.json`)
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: server.base, audience: AUDIENCE, env: {} })
  app.get('/private', { preHandler: app.requireAuth() }, async () => ({ ok: true }))
  t.teardown(async () => await app.close())
  t.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${await kit.token({ iss: server.base })}` } })).statusCode, 200)
})

t.test('http issuers off loopback are refused at start-up', async (t) => {
  const err = await startupError({ issuerBaseURL: 'http://0.0.0.0:1/', audience: AUDIENCE, env: {} })
  t.equal(err.message, 'fastify-auth0-api: issuerBaseURL must use https (http is allowed only for loopback hosts such as 127.0.0.1)')
})
