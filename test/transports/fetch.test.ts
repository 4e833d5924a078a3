/**
 * The `fetch` option carries every outbound request: discovery, JWKS and token exchange go
 * through a real forward proxy on 127.0.0.1 (undici's ProxyAgent on the client side), counted at
 * the proxy and at the issuer; with the proxy down, nothing reaches the issuer.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { fetch as undiciFetch, ProxyAgent } from 'undici'
import auth0Plugin, { type Auth0PluginOptions, type FetchLike } from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { expectUnavailable } from '../helpers/expect.js'
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.js'
import { startTokenEndpoint } from '../fixtures/token-endpoint.js'

function throughProxy (t: Test, proxy: ForwardProxy): FetchLike {
  const agent = new ProxyAgent(proxy.url)
  t.teardown(async () => { await agent.close() })
  return async (input, init) => await (undiciFetch(input, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>)
}

async function app (t: Test, options: Partial<Auth0PluginOptions>): Promise<FastifyInstance> {
  const instance = Fastify()
  t.teardown(async () => { await instance.close() })
  await instance.register(auth0Plugin, { audience: AUDIENCE, env: {}, ...options } as Auth0PluginOptions)
  instance.get('/private', { preHandler: instance.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  await instance.ready()
  return instance
}

t.test('discovery and JWKS reach the issuer only through the proxy', async (t) => {
  const issuer = await createTestIssuer()
  const proxy = await startForwardProxy()
  t.teardown(async () => { await proxy.close(); await issuer.close() })
  const api = await app(t, { issuerBaseURL: issuer.issuerBaseURL, fetch: throughProxy(t, proxy) })
  const token = await issuer.token()
  const res = await api.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'test-user' })
  const origin = issuer.issuerBaseURL.replace(/\/$/, '')
  t.same(proxy.requests, [`GET ${origin}/.well-known/openid-configuration`, `GET ${issuer.jwksUri}`], 'the proxy carried discovery and JWKS')
  t.same(issuer.requests, { discovery: 1, jwks: 1 }, 'and the issuer saw exactly those')
  t.ok(proxy.tunnels.length >= 1)
})

t.test('with the proxy down, the issuer is not reached: 503', async (t) => {
  const issuer = await createTestIssuer()
  const proxy = await startForwardProxy()
  t.teardown(async () => { await issuer.close() })
  const fetch = throughProxy(t, proxy)
  await proxy.close()
  const api = await app(t, { issuerBaseURL: issuer.issuerBaseURL, fetch })
  expectUnavailable(t, await api.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}` } }))
  t.same(issuer.requests, { discovery: 0, jwks: 0 }, 'no direct request to the issuer')
})

t.test('token exchange (discovery and the token endpoint) goes through the proxy too', async (t) => {
  const server = await startTokenEndpoint({ subjectTokens: ['user-token-0123456789'] })
  const proxy = await startForwardProxy()
  t.teardown(async () => { await proxy.close(); await server.close() })
  const api = await app(t, { issuerBaseURL: 'https://tenant.example.com/', client: { clientId: server.clientId, clientSecret: server.clientSecret, issuer: server.issuer }, fetch: throughProxy(t, proxy) })
  const result = await api.auth0.getTokenOnBehalfOf('user-token-0123456789', { audience: 'https://downstream.example.com/' })
  t.match(result.accessToken, /^obo-/)
  const origin = server.issuer.replace(/\/$/, '')
  t.same(proxy.requests, [`GET ${origin}/.well-known/openid-configuration`, `POST ${server.tokenEndpoint}`])
  t.equal(server.discoveryRequests, 1)
  t.equal(server.requests.length, 1)
})

t.test('the forward proxy also carries absolute-form requests (plain HTTP proxying)', async (t) => {
  const issuer = await createTestIssuer()
  const proxy = await startForwardProxy()
  t.teardown(async () => { await proxy.close(); await issuer.close() })
  // As curl's http_proxy does: the absolute URL as the request target.
  const { request } = await import('node:http')
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(proxy.url, { path: issuer.jwksUri, headers: { host: new URL(issuer.jwksUri).host } }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => resolve(text))
    })
    req.on('error', reject)
    req.end()
  })
  t.same(JSON.parse(body), issuer.jwks())
  t.same(proxy.requests, [`GET ${issuer.jwksUri}`])
})
