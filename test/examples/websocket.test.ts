/**
 * examples/websocket over a real listening server: undici's WebSocket client opens the upgrade
 * with a query token or a cookie; a refused upgrade is an HTTP answer the client reports.
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { WebSocket } from 'undici'
import { buildWebSocketApi } from '../../examples/websocket/index.js'
import { expectGrammar } from '../helpers/expect.js'

/** The HTTP status answered to a WebSocket upgrade request (101 when it is accepted). */
async function upgradeStatus (url: string, headers: Record<string, string> = {}): Promise<number> {
  return await new Promise((resolve, reject) => {
    // A new connection each time: @fastify/websocket closes the socket of a refused upgrade.
    const req = httpRequest(url.replace('ws:', 'http:'), {
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), ...headers }
    })
    req.on('response', (res) => { res.resume(); resolve(res.statusCode as number) })
    req.on('upgrade', (_res, socket) => { socket.destroy(); resolve(101) })
    req.on('error', reject)
    req.end()
  })
}

/** Opens a WebSocket and resolves with its first message. */
async function firstMessage (url: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  return await new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers } as never)
    ws.addEventListener('message', (event) => { resolve(JSON.parse(String(event.data)) as Record<string, unknown>); ws.close() })
    ws.addEventListener('error', (event) => { reject(new Error(String((event as unknown as { error?: Error }).error?.message ?? 'error'))) })
  })
}

t.test('the upgrade is authenticated by a query token or a same-origin cookie', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildWebSocketApi({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {}, allowedOrigins: ['https://app.example.com'] })
  t.teardown(async () => { await app.close(); await issuer.close() })
  const base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('http:', 'ws:')
  const token = await issuer.token({ sub: 'auth0|alice', scope: 'read:messages' })

  t.same(await firstMessage(`${base}/ws?access_token=${token}`), { hello: 'auth0|alice', via: 'query' })
  t.same(await firstMessage(`${base}/ws`, { cookie: `access_token=${token}`, origin: 'https://app.example.com' }), { hello: 'auth0|alice', via: 'cookie' })
  t.same(await firstMessage(`${base}/ws`, { authorization: `Bearer ${token}` }), { hello: 'auth0|alice', via: 'header' })

  t.equal(await upgradeStatus(`${base}/ws?access_token=${token}`), 101, 'accepted')
  t.equal(await upgradeStatus(`${base}/ws`), 401, 'no token: the upgrade is refused with 401')
  t.equal(await upgradeStatus(`${base}/ws?access_token=${await issuer.token({ scope: 'other' })}`), 403, 'missing scope: 403')
  t.equal(await upgradeStatus(`${base}/ws`, { cookie: `access_token=${token}`, origin: 'https://evil.example' }), 403, 'a cookie from another origin: 403')
  t.equal(await upgradeStatus(`${base}/ws`, { cookie: `access_token=${token}` }), 403, 'a cookie without Origin: 403')
  t.equal(await upgradeStatus(`${base}/ws?access_token=${token}`, { cookie: `access_token=${token}` }), 400, 'two methods: 400')

  // The HTTP answers themselves, as any client sees them.
  const refused = await app.inject({ url: '/ws', headers: { connection: 'upgrade', upgrade: 'websocket' } })
  t.equal(refused.statusCode, 401)
  t.equal(refused.headers['www-authenticate'], 'Bearer realm="api", DPoP algs="ES256"')
  expectGrammar(t, refused)
})
