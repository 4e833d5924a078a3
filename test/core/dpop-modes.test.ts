/**
 * SPEC §2 `dpop.mode`, §3 step 2 and step 7, §4 challenges. A bound token (`cnf.jkt`) is never a
 * bearer token, whatever the mode; challenges name exactly the schemes a route accepts.
 */
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, type TestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { bearerChallenge, dpopOnlyChallenge, expectError } from '../helpers/expect.js'

const BOUND = 'DPoP-bound token presented with the Bearer scheme'
const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'

async function setup (t: Test, options: Partial<Auth0PluginOptions> = {}): Promise<{ app: FastifyInstance, issuer: TestIssuer }> {
  const issuer = await createTestIssuer()
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, ...options })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ sub: request.claims.sub }))
  app.get('/dpop-only', { preHandler: app.requireAuth({ dpop: 'required' }) }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => {
    await app.close()
    await issuer.close()
  })
  return { app, issuer }
}

t.test('mode allowed (default): Bearer and DPoP are both advertised', async (t) => {
  const { app, issuer } = await setup(t)
  expectError(t, await app.inject({ url: '/private' }), { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: 'Bearer realm="api", DPoP algs="ES256"' })
  t.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}` } })).statusCode, 200)
  const bound = await issuer.token({ cnf: { jkt: JKT } })
  expectError(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${bound}` } }),
    { status: 401, error: 'invalid_token', description: BOUND, challenge: bearerChallenge('invalid_token', BOUND) })
  expectError(t, await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token({ scope: 'other' })}` } }),
    { status: 403, error: 'insufficient_scope', description: 'insufficient scope', challenge: bearerChallenge('insufficient_scope', 'insufficient scope', { scope: 'read:messages' }) })
})

t.test('mode disabled: Bearer only, and a bound token is still refused', async (t) => {
  const { app, issuer } = await setup(t, { dpop: { mode: 'disabled' } })
  expectError(t, await app.inject({ url: '/private' }), { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: 'Bearer realm="api"' })
  t.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}` } })).statusCode, 200)
  const bound = await issuer.token({ cnf: { jkt: JKT } })
  expectError(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${bound}` } }),
    { status: 401, error: 'invalid_token', description: BOUND, challenge: bearerChallenge('invalid_token', BOUND, { mode: 'disabled' }) })
  expectError(t, await app.inject({ url: '/private', headers: { authorization: `DPoP ${bound}`, dpop: 'x.y.z' } }),
    { status: 400, error: 'invalid_request', description: 'DPoP authorization scheme not accepted', challenge: bearerChallenge('invalid_request', 'DPoP authorization scheme not accepted', { mode: 'disabled' }) })
  expectError(t, await app.inject({ url: '/private', headers: { authorization: 'Basic eDp5' } }),
    { status: 400, error: 'invalid_request', description: 'unsupported authorization scheme (use Bearer or DPoP)', challenge: bearerChallenge('invalid_request', 'unsupported authorization scheme (use Bearer or DPoP)', { mode: 'disabled' }) })
  expectError(t, await app.inject({ url: '/messages', headers: { authorization: `Bearer ${await issuer.token()}` } }),
    { status: 403, error: 'insufficient_scope', description: 'insufficient scope', challenge: bearerChallenge('insufficient_scope', 'insufficient scope', { scope: 'read:messages', mode: 'disabled' }) })
  // A route can still demand DPoP: its challenge is then DPoP only.
  expectError(t, await app.inject({ url: '/dpop-only' }), { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: 'DPoP algs="ES256"' })
})

t.test('mode required: DPoP only; the Bearer scheme is a 400, bound or not, before any fetch', async (t) => {
  const { app, issuer } = await setup(t, { dpop: { mode: 'required' } })
  expectError(t, await app.inject({ url: '/private' }), { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: 'DPoP algs="ES256"' })
  const required = 'DPoP authorization scheme required'
  for (const token of [await issuer.token(), await issuer.token({ cnf: { jkt: JKT } })]) {
    expectError(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } }),
      { status: 400, error: 'invalid_request', description: required, challenge: dpopOnlyChallenge('invalid_request', required) })
  }
  // A malformed header on a DPoP-only route is reported on the DPoP challenge.
  expectError(t, await app.inject({ url: '/private', headers: { authorization: 'Basic eDp5' } }),
    { status: 400, error: 'invalid_request', description: 'unsupported authorization scheme (use Bearer or DPoP)', challenge: dpopOnlyChallenge('invalid_request', 'unsupported authorization scheme (use Bearer or DPoP)') })
  // So is a token-level failure detected before the scheme rules (an oversized Bearer token).
  expectError(t, await app.inject({ url: '/private', headers: { authorization: `Bearer ${'a'.repeat(20000)}` } }),
    { status: 401, error: 'invalid_token', description: 'access token too large', challenge: dpopOnlyChallenge('invalid_token', 'access token too large') })
  t.strictSame(issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('per-route dpop: "required" overrides mode allowed', async (t) => {
  const { app, issuer } = await setup(t)
  const required = 'DPoP authorization scheme required'
  expectError(t, await app.inject({ url: '/dpop-only' }), { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: 'DPoP algs="ES256"' })
  expectError(t, await app.inject({ url: '/dpop-only', headers: { authorization: `Bearer ${await issuer.token()}` } }),
    { status: 400, error: 'invalid_request', description: required, challenge: dpopOnlyChallenge('invalid_request', required) })
  t.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token()}` } })).statusCode, 200, 'other routes keep Bearer')
})

t.test('cnf must be an object whose jkt, when present, is a non-empty string', async (t) => {
  const { app, issuer } = await setup(t)
  for (const cnf of ['jkt', null, [JKT], { jkt: '' }, { jkt: 42 }]) {
    const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token({ cnf })}` } })
    expectError(t, res, { status: 401, error: 'invalid_token', description: 'invalid cnf claim', challenge: bearerChallenge('invalid_token', 'invalid cnf claim') })
  }
})

t.test('a token bound by a confirmation method other than jkt (mTLS x5t#S256) is never a bearer token', async (t) => {
  const { app, issuer } = await setup(t)
  const description = 'token bound by an unsupported confirmation method'
  for (const cnf of [{ 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }, { jkt: JKT, 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }, { kid: 'k1' }]) {
    const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token({ cnf })}` } })
    expectError(t, res, { status: 401, error: 'invalid_token', description, challenge: bearerChallenge('invalid_token', description) })
  }
  t.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${await issuer.token({ cnf: {} })}` } })).statusCode, 200, 'an empty cnf binds nothing')
})

t.test('realm and dpop.algorithms shape the challenges; quoted-string values are escaped', async (t) => {
  const { app } = await setup(t, { realm: 'my "quoted" \\ realm', dpop: { algorithms: ['ES256', 'EdDSA'] } })
  expectError(t, await app.inject({ url: '/private' }),
    { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: 'Bearer realm="my \\"quoted\\" \\\\ realm", DPoP algs="ES256 EdDSA"' })
  expectError(t, await app.inject({ url: '/private', headers: { authorization: 'Bearer' } }), {
    status: 400,
    error: 'invalid_request',
    description: 'Authorization header must be <scheme> <token>',
    challenge: 'Bearer realm="my \\"quoted\\" \\\\ realm", error="invalid_request", error_description="Authorization header must be <scheme> <token>", DPoP algs="ES256 EdDSA"'
  })
})
