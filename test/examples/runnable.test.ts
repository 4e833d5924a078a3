/**
 * Every example runs as a program: compiled with tsconfig.examples.json, started with `node`
 * and configured by the environment only (as a user would), it listens and answers over HTTP.
 * (Without a tenant each runs against a local test issuer: local-issuer.test.ts.)
 */
import { request } from 'node:http'
import { createTestIssuer, type TestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { compileExamples, startExample } from '../helpers/example-process.js'

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
    name: 'metrics',
    env: tenantEnv,
    checks: async (issuer, base) => {
      const refused = await get(`${base}/api/messages`, await bearer(issuer))
      const metrics = await (await fetch(`${base}/metrics`)).text()
      return [
        ['GET /api/messages without read:messages', refused, 403],
        ['GET /metrics counts the refusal', metrics.includes('auth0_verifications_total{outcome="refused",reason="insufficient_scope",scheme="bearer",route="/api/messages",method="GET",cached="false",issuer=""} 1') ? 1 : 0, 1]
      ]
    }
  },
  {
    name: 'swagger',
    env: tenantEnv,
    checks: async (_issuer, base) => [['GET /documentation/json', await get(`${base}/documentation/json`, {}), 200]]
  }
]

// Every example started one after the other: on a busy two-core machine this takes longer than
// the 120 s .taprc gives a file.
t.setTimeout(360_000)
await compileExamples()

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
