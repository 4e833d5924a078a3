/**
 * examples/websocket, examples/mtls and examples/egress-proxy run as programs (as runnable.test.ts
 * does for the others; a file of their own keeps each file within the per-file time budget):
 * configured by the environment only, over HTTP, TLS and a forward proxy.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestIssuer, type TestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { Agent, request as undiciRequest } from 'undici'
import { makeCertificate } from '../helpers/certificates.js'
import { compileExamples, startExample } from '../helpers/example-process.js'
import { startForwardProxy } from '../helpers/forward-proxy.js'

async function get (url: string, headers: Record<string, string>): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode as number)) })
    req.on('error', reject)
    req.end()
  })
}

const AUDIENCE = 'https://api.example.com/'
const tenantEnv = (issuer: TestIssuer): Record<string, string> => ({ AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL, AUTH0_AUDIENCE: AUDIENCE })
const bearer = async (issuer: TestIssuer, claims: Record<string, unknown> = {}): Promise<Record<string, string>> => ({ authorization: `Bearer ${await issuer.token(claims)}` })

const tlsDir = await mkdtemp(join(tmpdir(), 'fa0-mtls-example-'))
const [serverCert, clientCert] = await Promise.all([makeCertificate('api.test', { server: true }), makeCertificate('client')])
await writeFile(join(tlsDir, 'key.pem'), serverCert.key)
await writeFile(join(tlsDir, 'cert.pem'), serverCert.cert)
const proxy = await startForwardProxy()
t.teardown(async () => { await proxy.close(); await rm(tlsDir, { recursive: true, force: true }) })

async function getTls (url: string, headers: Record<string, string>): Promise<number> {
  const dispatcher = new Agent({ connect: { ca: serverCert.cert, cert: clientCert.cert, key: clientCert.key } })
  try {
    const res = await undiciRequest(url, { dispatcher, headers })
    await res.body.dump()
    return res.statusCode
  } finally {
    await dispatcher.close()
  }
}

await compileExamples()

t.test('websocket', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => { await issuer.close() })
  const { base } = await startExample(t, 'websocket', tenantEnv(issuer))
  // A plain GET is no upgrade: authenticated, then @fastify/websocket's 404.
  t.equal(await get(`${base}/ws?access_token=${await issuer.token({ scope: 'read:messages' })}`, {}), 404, 'query token')
  t.equal(await get(`${base}/ws`, {}), 401, 'no token')
})

t.test('mtls', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => { await issuer.close() })
  const { base } = await startExample(t, 'mtls', { ...tenantEnv(issuer), TLS_KEY_FILE: join(tlsDir, 'key.pem'), TLS_CERT_FILE: join(tlsDir, 'cert.pem') })
  t.equal(await getTls(`${base}/api/private`, await bearer(issuer, { cnf: { 'x5t#S256': clientCert.thumbprint } })), 200, 'bound token, its certificate')
  t.equal(await getTls(`${base}/api/private`, await bearer(issuer, { cnf: { 'x5t#S256': serverCert.thumbprint } })), 401, 'token bound to another')
})

t.test('egress-proxy', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => { await issuer.close() })
  const { base } = await startExample(t, 'egress-proxy', { ...tenantEnv(issuer), HTTPS_PROXY: proxy.url })
  t.equal(await get(`${base}/api/private`, await bearer(issuer)), 200)
  t.equal(proxy.requests.length, 2, 'discovery and JWKS through the proxy')
  t.same(issuer.requests, { discovery: 1, jwks: 1 })
})
