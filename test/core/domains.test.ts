/**
 * SPEC §2 `domains` and §3 step 4: several allowed issuers, as a list or a resolver. A token whose
 * `iss` is not allowed causes no network call; the resolver only compares `unverifiedIss`.
 */
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions, type DomainsResolverContext } from '../../lib/index.js'
import { createTestIssuer, type TestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { expectInternal, expectInvalidToken } from '../helpers/expect.js'

const rs = await createTestIssuer()
const es = await createTestIssuer({ alg: 'ES256' })
const outsider = await createTestIssuer()
t.teardown(async () => {
  await rs.close()
  await es.close()
  await outsider.close()
})

async function app (t: import('tap').Test, options: Partial<Auth0PluginOptions>): Promise<FastifyInstance> {
  const instance = Fastify()
  await instance.register(auth0Plugin, { audience: AUDIENCE, env: {}, algorithms: ['RS256', 'ES256'], ...options })
  instance.get('/private', { preHandler: instance.requireAuth() }, async (request) => ({ iss: request.claims.iss }))
  t.teardown(async () => await instance.close())
  return instance
}

const call = async (instance: FastifyInstance, issuer: TestIssuer, claims: Record<string, unknown> = {}): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> =>
  await instance.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token(claims)}` } })

function resetCounts (): void {
  for (const i of [rs, es, outsider]) { i.requests.discovery = 0; i.requests.jwks = 0 }
}

t.test('a static list: each listed issuer verifies with its own keys; others cost nothing', async (t) => {
  resetCounts()
  const a = await app(t, { domains: [rs.issuerBaseURL, { issuer: es.issuerBaseURL, algorithms: ['ES256'] }] })
  t.strictSame((await call(a, rs)).json(), { iss: rs.issuer })
  t.strictSame((await call(a, es)).json(), { iss: es.issuer })
  expectInvalidToken(t, await call(a, outsider), 'issuer not allowed')
  t.strictSame(outsider.requests, { discovery: 0, jwks: 0 })
  // A token naming one listed issuer but signed by another's key.
  const forged = await rs.token({ iss: es.issuer }, { header: { alg: 'RS256' } })
  expectInvalidToken(t, await a.inject({ url: '/private', headers: { authorization: `Bearer ${forged}` } }), 'token algorithm not allowed')
  const forged2 = await outsider.token({ iss: rs.issuer })
  expectInvalidToken(t, await a.inject({ url: '/private', headers: { authorization: `Bearer ${forged2}` } }), 'no matching signing key')
})

t.test('domains decide even when domain/issuerBaseURL is set too', async (t) => {
  resetCounts()
  const a = await app(t, { issuerBaseURL: outsider.issuerBaseURL, domains: [rs.issuerBaseURL] })
  t.equal((await call(a, rs)).statusCode, 200)
  expectInvalidToken(t, await call(a, outsider), 'issuer not allowed')
  t.strictSame(outsider.requests, { discovery: 0, jwks: 0 })
})

t.test('a resolver: sees only the unverified iss and the request; its answer is the allowlist', async (t) => {
  resetCounts()
  const seen: DomainsResolverContext[] = []
  const a = await app(t, {
    domains: async (context) => {
      seen.push(context)
      return context.request.headers['x-tenant'] === 'es' ? [{ issuer: es.issuerBaseURL }] : [rs.issuerBaseURL, 'unused.example.com']
    }
  })
  t.equal((await call(a, rs)).statusCode, 200)
  t.equal(seen[0]?.unverifiedIss, rs.issuer)
  t.equal(seen[0]?.request.method, 'GET')
  t.equal(seen[0]?.request.url, '/private')
  t.strictSame(Object.keys(seen[0] as object).sort(), ['request', 'unverifiedIss'])
  const esRes = await a.inject({ url: '/private', headers: { authorization: `Bearer ${await es.token()}`, 'x-tenant': 'es' } })
  t.equal(esRes.statusCode, 200)
  expectInvalidToken(t, await call(a, es), 'issuer not allowed')
  expectInvalidToken(t, await call(a, outsider), 'issuer not allowed')
  t.strictSame(outsider.requests, { discovery: 0, jwks: 0 })
  // Not called for requests that fail before the issuer step.
  const before = seen.length
  await a.inject({ url: '/private', headers: { authorization: 'Bearer not-a-jwt' } })
  await a.inject({ url: '/private' })
  t.equal(seen.length, before)
})

t.test('a resolver that returns nothing allows nothing', async (t) => {
  resetCounts()
  const a = await app(t, { domains: () => [] })
  expectInvalidToken(t, await call(a, rs), 'issuer not allowed')
  t.strictSame(rs.requests, { discovery: 0, jwks: 0 })
})

t.test('a failing resolver is a 500, not a 401, and costs no fetch', async (t) => {
  resetCounts()
  const answers: Array<() => unknown> = [
    () => { throw new Error('tenant database down') },
    async () => await Promise.reject(new Error('tenant database down')),
    () => 'not a list',
    () => [rs.issuerBaseURL, 'http://evil.example.com/'],
    () => [{ issuer: rs.issuerBaseURL, algorithms: ['HS256'] }]
  ]
  for (const answer of answers) {
    const a = await app(t, { domains: answer as never })
    expectInternal(t, await call(a, rs))
  }
  t.strictSame(rs.requests, { discovery: 0, jwks: 0 })
})
