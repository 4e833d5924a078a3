/**
 * SPEC §8 / RFC 9470 step-up: per-route acr and maxAge, the claims named by stepUp (Auth0's
 * namespaced claims), 401 insufficient_user_authentication with acr_values and/or max_age on the
 * challenge of the scheme used, resource_metadata when metadata is on, the precedence over
 * missing scopes, and maxAge judged on every request (cache hits included).
 */
import t, { type Test } from 'tap'
import { InsufficientUserAuthenticationError, type AuthError } from '../../lib/index.js'
import { expectError, expectGrammar } from '../helpers/expect.js'
import { describable, echo, policyApp, sleep } from './helpers.js'

const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor'
const ERROR = 'insufficient_user_authentication'

/** The Bearer challenge of a step-up refusal, in mode `allowed`. */
function bearerStepUp (description: string, params: string): string {
  return `Bearer realm="api", error="${ERROR}", error_description="${description}", ${params}, DPoP algs="ES256"`
}

function stepUp (t: Test, res: Awaited<ReturnType<import('fastify').FastifyInstance['inject']>>, description: string, params: string): void {
  t.ok(describable(description), 'description within RFC 6750 §3 characters')
  expectError(t, res, { status: 401, error: ERROR, description, challenge: bearerStepUp(description, params) })
}

const routes = (app: import('fastify').FastifyInstance): void => {
  app.get('/mfa', { preHandler: app.requireAuth({ acr: MFA }) }, echo)
  app.get('/either', { preHandler: app.requireAuth({ acr: ['gold', 'silver'] }) }, echo)
  app.get('/recent', { preHandler: app.requireAuth({ maxAge: 300 }) }, echo)
  app.get('/both', { preHandler: app.requireAuth({ acr: 'gold', maxAge: 60 }) }, echo)
  app.get('/both-scoped', { preHandler: app.requireAuth({ acr: 'gold', scopes: ['transfer:funds', 'read:accounts'] }) }, echo)
  app.get('/any-scoped', { preHandler: app.requireAuth({ acr: 'gold', scopes: ['a', 'b'], match: 'any' }) }, echo)
  app.get('/zero', { preHandler: app.requireAuth({ maxAge: 0 }) }, echo)
}

t.test('acr: the token names one of the route values, exactly', async (t) => {
  const h = await policyApp(t, {}, routes)
  t.equal((await h.bearer('/mfa', { acr: MFA })).statusCode, 200)
  t.equal((await h.bearer('/either', { acr: 'silver' })).statusCode, 200)
  const needs = `acr_values="${MFA}"`
  stepUp(t, await h.bearer('/mfa', {}), `token does not state how the user logged in (acr); this route needs a login with acr ${MFA}`, needs)
  stepUp(t, await h.bearer('/mfa', { acr: '' }), `token does not state how the user logged in (acr); this route needs a login with acr ${MFA}`, needs)
  stepUp(t, await h.bearer('/mfa', { acr: [MFA] }), `token does not state how the user logged in (acr); this route needs a login with acr ${MFA}`, needs)
  stepUp(t, await h.bearer('/mfa', { acr: `${MFA} ` }), `a stronger login is required: acr ${MFA}`, needs)
  stepUp(t, await h.bearer('/mfa', { acr: MFA.toUpperCase() }), `a stronger login is required: acr ${MFA}`, needs)
  stepUp(t, await h.bearer('/either', { acr: 'bronze' }), 'a stronger login is required: acr gold, silver', 'acr_values="gold silver"')
  // Never ordered: a "higher" looking value is just another value.
  stepUp(t, await h.bearer('/either', { acr: 'platinum' }), 'a stronger login is required: acr gold, silver', 'acr_values="gold silver"')
})

t.test('maxAge: auth_time within the window; a missing auth_time fails', async (t) => {
  const h = await policyApp(t, { clockTolerance: 0 }, routes)
  const now = Math.floor(Date.now() / 1000)
  t.equal((await h.bearer('/recent', { auth_time: now - 100 })).statusCode, 200)
  stepUp(t, await h.bearer('/recent', { auth_time: now - 400 }), 'a more recent login is required: within 300 seconds', 'max_age="300"')
  stepUp(t, await h.bearer('/recent', {}), 'token does not state when the user logged in (auth_time); this route needs a login within 300 seconds', 'max_age="300"')
  stepUp(t, await h.bearer('/recent', { auth_time: String(now) }), 'token does not state when the user logged in (auth_time); this route needs a login within 300 seconds', 'max_age="300"')
  stepUp(t, await h.bearer('/zero', { auth_time: now - 5 }), 'a more recent login is required: within 0 seconds', 'max_age="0"')
})

t.test('acr and maxAge together: the challenge carries both', async (t) => {
  const h = await policyApp(t, {}, routes)
  const now = Math.floor(Date.now() / 1000)
  t.equal((await h.bearer('/both', { acr: 'gold', auth_time: now })).statusCode, 200)
  stepUp(t, await h.bearer('/both', { acr: 'silver', auth_time: now }), 'a stronger login is required: acr gold', 'acr_values="gold", max_age="60"')
  stepUp(t, await h.bearer('/both', { acr: 'gold', auth_time: now - 3600 }), 'a more recent login is required: within 60 seconds', 'acr_values="gold", max_age="60"')
})

t.test('login level and scopes both short: the step-up wins and also names the scopes', async (t) => {
  const h = await policyApp(t, {}, routes)
  stepUp(t, await h.bearer('/both-scoped', { scope: 'read:accounts' }), 'token does not state how the user logged in (acr); this route needs a login with acr gold', 'scope="transfer:funds read:accounts", acr_values="gold"')
  // Only the scopes short: the usual 403.
  const res = await h.bearer('/both-scoped', { acr: 'gold', scope: 'read:accounts' })
  expectError(t, res, { status: 403, error: 'insufficient_scope', description: 'missing scope transfer:funds', challenge: 'Bearer realm="api", error="insufficient_scope", error_description="missing scope transfer:funds", scope="transfer:funds read:accounts", DPoP algs="ES256"' })
  // Only the login short: no scope=.
  stepUp(t, await h.bearer('/both-scoped', { scope: 'read:accounts transfer:funds' }), 'token does not state how the user logged in (acr); this route needs a login with acr gold', 'acr_values="gold"')
  // Any-of scopes are not a required set: no scope=.
  stepUp(t, await h.bearer('/any-scoped', {}), 'token does not state how the user logged in (acr); this route needs a login with acr gold', 'acr_values="gold"')
})

t.test("Auth0: namespaced claims written by an Action, named by stepUp", async (t) => {
  const h = await policyApp(t, { stepUp: { acrClaim: 'https://example.com/acr', authTimeClaim: 'https://example.com/auth_time' } }, routes)
  const now = Math.floor(Date.now() / 1000)
  t.equal((await h.bearer('/both', { 'https://example.com/acr': 'gold', 'https://example.com/auth_time': now })).statusCode, 200)
  // acr and auth_time under their registered names do not count any more.
  stepUp(t, await h.bearer('/both', { acr: 'gold', auth_time: now }), 'token does not state how the user logged in (https://example.com/acr); this route needs a login with acr gold', 'acr_values="gold", max_age="60"')
  stepUp(t, await h.bearer('/both', { 'https://example.com/acr': 'gold', auth_time: now }), 'token does not state when the user logged in (https://example.com/auth_time); this route needs a login within 60 seconds', 'acr_values="gold", max_age="60"')
})

t.test('DPoP: the error goes on the DPoP challenge; resource_metadata on both when metadata is on', async (t) => {
  const h = await policyApp(t, { resourceMetadata: { resource: 'https://api.example.com/' } }, routes)
  const res = await h.dpop('/both', { acr: 'bronze' })
  const description = 'a stronger login is required: acr gold'
  const metadata = 'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'
  expectError(t, res, {
    status: 401,
    error: ERROR,
    description,
    challenge: `Bearer realm="api", ${metadata}, DPoP error="${ERROR}", error_description="${description}", acr_values="gold", max_age="60", algs="ES256", ${metadata}`
  })
  const bearer = await h.bearer('/recent', {})
  t.equal(bearer.headers['www-authenticate'], `Bearer realm="api", error="${ERROR}", error_description="token does not state when the user logged in (auth_time); this route needs a login within 300 seconds", max_age="300", ${metadata}, DPoP algs="ES256", ${metadata}`)
  expectGrammar(t, bearer)
  const now = Math.floor(Date.now() / 1000)
  t.equal((await h.dpop('/both', { acr: 'gold', auth_time: now })).statusCode, 200)
})

t.test('maxAge is judged on every request: the clock moves past it between two cache hits', async (t) => {
  const h = await policyApp(t, { clockTolerance: 0 }, (app) => {
    const seen: unknown[] = []
    app.get('/recent', { preHandler: app.requireAuth({ maxAge: 2 }) }, async (request) => {
      seen.push(request.claims)
      return { cached: seen.length > 1 && seen[seen.length - 1] === seen[seen.length - 2] }
    })
  })
  const now = Math.floor(Date.now() / 1000)
  const token = await h.issuer.token({ auth_time: now })
  t.equal((await h.send('/recent', token)).statusCode, 200)
  t.equal((await h.send('/recent', token)).statusCode, 200)
  t.same((await h.send('/recent', token)).json(), { cached: true }, 'served from the verified-token cache')
  await sleep((now + 3) * 1000 - Date.now() + 50)
  stepUp(t, await h.send('/recent', token), 'a more recent login is required: within 2 seconds', 'max_age="2"')
})

t.test('fastify.auth0.verify(): InsufficientUserAuthenticationError with its parameters', async (t) => {
  const h = await policyApp(t, {}, () => {})
  const token = await h.issuer.token({ acr: 'bronze' })
  const err = await h.app.auth0.verify({ method: 'GET', url: '/ws', headers: { authorization: `Bearer ${token}` } }, { acr: ['gold', 'silver'], maxAge: 30 })
    .then(() => undefined, (e: AuthError) => e)
  t.ok(err instanceof InsufficientUserAuthenticationError)
  const e = err as InsufficientUserAuthenticationError
  t.equal(e.statusCode, 401)
  t.equal(e.reason, 'acr_not_allowed')
  t.equal(e.acrValues, 'gold silver')
  t.equal(e.maxAge, 30)
  t.equal(e.headers['www-authenticate'], bearerStepUp('a stronger login is required: acr gold, silver', 'acr_values="gold silver", max_age="30"'))
  expectGrammar(t, e)
  const reasons = async (claims: Record<string, unknown>, spec: { acr?: string, maxAge?: number }): Promise<string> =>
    await h.app.auth0.verify({ method: 'GET', url: '/', headers: { authorization: `Bearer ${await h.issuer.token(claims)}` } }, spec).then(() => 'accepted', (x: AuthError) => x.reason)
  t.equal(await reasons({}, { acr: 'gold' }), 'acr_missing')
  t.equal(await reasons({}, { maxAge: 10 }), 'auth_time_missing')
  t.equal(await reasons({ auth_time: 1 }, { maxAge: 10 }), 'max_age_exceeded')
  t.equal(await reasons({ acr: 'gold', auth_time: Math.floor(Date.now() / 1000) }, { acr: 'gold', maxAge: 10 }), 'accepted')
})
