/**
 * Every example runs as a program: compiled with tsconfig.examples.json, started with `node`
 * and configured by the environment only (as a user would), it listens and answers over HTTP.
 * (Without a tenant each runs against a local test issuer: local-issuer.test.ts.)
 */
import { request } from 'node:http'
import { createTestIssuer, type TestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request as undiciRequest } from 'undici'
import { makeCertificate } from '../helpers/certificates.js'
import { compileExamples, startExample } from '../helpers/example-process.js'
import { startForwardProxy } from '../helpers/forward-proxy.js'

/** A GET over real HTTP, with a Host header of our choosing (fetch does not allow one). */
async function get (url: string, headers: Record<string, string>): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode as number)) })
    req.on('error', reject)
    req.end()
  })
}

interface Case {
  name: string
  env: (issuer: TestIssuer) => Record<string, string>
  /** Requests and the statuses they must get. */
  checks: (issuer: TestIssuer, base: string) => Promise<Array<[string, number, number]>>
}

const AUDIENCE = 'https://api.example.com/'
const tenantEnv = (issuer: TestIssuer): Record<string, string> => ({ AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL, AUTH0_AUDIENCE: AUDIENCE })
const bearer = async (issuer: TestIssuer, claims: Record<string, unknown> = {}): Promise<Record<string, string>> => ({ authorization: `Bearer ${await issuer.token(claims)}` })

// examples/mtls needs server TLS files; examples/egress-proxy a forward proxy.
const tlsDir = await mkdtemp(join(tmpdir(), 'fa0-mtls-example-'))
const [serverCert, clientCert] = await Promise.all([makeCertificate('api.test', { server: true }), makeCertificate('client')])
await writeFile(join(tlsDir, 'key.pem'), serverCert.key)
await writeFile(join(tlsDir, 'cert.pem'), serverCert.cert)
const proxy = await startForwardProxy()
t.teardown(async () => { await proxy.close(); await rm(tlsDir, { recursive: true, force: true }) })

/** A GET over TLS presenting `clientCert`. */
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

const cases: Case[] = [
  {
    name: 'basic',
    env: tenantEnv,
    checks: async (issuer, base) => [
      ['GET /api/private with a token', await get(`${base}/api/private`, await bearer(issuer)), 200],
      ['GET /api/private without', await get(`${base}/api/private`, {}), 401]
    ]
  },
  {
    name: 'scopes-and-permissions',
    env: tenantEnv,
    checks: async (issuer, base) => [
      ['GET /api/messages with read:messages', await get(`${base}/api/messages`, await bearer(issuer, { scope: 'read:messages' })), 200],
      ['GET /api/messages without it', await get(`${base}/api/messages`, await bearer(issuer)), 403]
    ]
  },
  {
    name: 'custom-claims-typing',
    env: tenantEnv,
    checks: async (issuer, base) => [['GET /api/me', await get(`${base}/api/me`, await bearer(issuer)), 200]]
  },
  {
    name: 'behind-a-proxy',
    env: tenantEnv,
    checks: async (issuer, base) => [
      ['GET /messages', await get(`${base}/messages`, { ...await bearer(issuer, { scope: 'read:messages' }), 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com' }), 200],
      ['GET the metadata', await get(`${base}/.well-known/oauth-protected-resource/api`, {}), 200]
    ]
  },
  {
    name: 'multiple-domains',
    env: (issuer) => ({ AUTH0_AUDIENCE: AUDIENCE, TENANTS: JSON.stringify({ 'a.example.com': [issuer.issuerBaseURL] }) }),
    checks: async (issuer, base) => [
      ['GET /api/whoami on a.example.com', await get(`${base}/api/whoami`, { ...await bearer(issuer), host: 'a.example.com' }), 200],
      ['GET /api/whoami on b.example.com', await get(`${base}/api/whoami`, { ...await bearer(issuer), host: 'b.example.com' }), 401]
    ]
  },
  {
    name: 'websocket',
    env: tenantEnv,
    checks: async (issuer, base) => [
      // A plain GET is no upgrade: authenticated, then @fastify/websocket's 404.
      ['GET /ws with a query token', await get(`${base}/ws?access_token=${await issuer.token({ scope: 'read:messages' })}`, {}), 404],
      ['GET /ws without', await get(`${base}/ws`, {}), 401]
    ]
  },
  {
    name: 'mtls',
    env: (issuer) => ({ ...tenantEnv(issuer), TLS_KEY_FILE: join(tlsDir, 'key.pem'), TLS_CERT_FILE: join(tlsDir, 'cert.pem') }),
    checks: async (issuer, base) => [
      ['GET /api/private, bound token, its certificate', await getTls(`${base}/api/private`, await bearer(issuer, { cnf: { 'x5t#S256': clientCert.thumbprint } })), 200],
      ['GET /api/private, token bound to another', await getTls(`${base}/api/private`, await bearer(issuer, { cnf: { 'x5t#S256': serverCert.thumbprint } })), 401]
    ]
  },
  {
    name: 'egress-proxy',
    env: (issuer) => ({ ...tenantEnv(issuer), HTTPS_PROXY: proxy.url }),
    checks: async (issuer, base) => {
      const before = proxy.requests.length
      const status = await get(`${base}/api/private`, await bearer(issuer))
      return [['GET /api/private', status, 200], ['requests through the proxy', proxy.requests.length - before, 2]]
    }
  },
  {
    name: 'swagger',
    env: tenantEnv,
    checks: async (_issuer, base) => [['GET /documentation/json', await get(`${base}/documentation/json`, {}), 200]]
  }
]

await compileExamples()
// Nine programs started one after the other: more than the suite's per-file default on a loaded machine.
t.setTimeout(600_000)

t.test('each example starts from the environment and answers over HTTP', async (t) => {
  for (const example of cases) {
    await t.test(example.name, async (t) => {
      const issuer = await createTestIssuer()
      t.teardown(async () => { await issuer.close() })
      const { base, out } = await startExample(t, example.name, example.env(issuer))
      t.notMatch(out, /local test issuer/, 'a tenant is configured: no local issuer')
      for (const [what, status, expected] of await example.checks(issuer, base)) t.equal(status, expected, what)
    })
  }
})
