/**
 * Every refusal of the organization and profile policies carries its own `reason` and the scheme
 * the token came with, so a DPoP request's refusal goes on the DPoP challenge. Found missing by
 * the mutation run of 2026-12-02 (reasons and `{ scheme }` mutants survived: the other tests
 * compared descriptions of Bearer requests only).
 */
import t, { type Test } from 'tap'
import type { Auth0PluginOptions, AuthError } from '../../lib/index.js'
import { checkTokenAge } from '../../lib/policies/profile.js'
import { checkStepUp, compileStepUp, resolveStepUp } from '../../lib/policies/step-up.js'
import type { AccessTokenClaims } from '../../lib/types.js'
import type { TokenOptions } from '../../lib/testing/index.js'
import { dpopOnlyChallenge, expectError } from '../helpers/expect.js'
import { echo, policyApp } from './helpers.js'

type Case = [claims: Record<string, unknown>, tokenOptions: TokenOptions, reason: string]

/** Sends each case as Bearer and as DPoP; the refusal's reason and scheme, as `onAuthError` saw them. */
async function refusals (t: Test, options: Partial<Auth0PluginOptions>, cases: Case[]): Promise<void> {
  const seen: Array<{ reason: string, scheme: string | undefined, description: string }> = []
  const h = await policyApp(t, { ...options, onAuthError: (error: AuthError) => { seen.push({ reason: error.reason, scheme: error.scheme, description: error.error_description }) } },
    (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  for (const [claims, tokenOptions, reason] of cases) {
    const label = `${JSON.stringify(claims)} ${JSON.stringify(tokenOptions.header ?? {})}`
    seen.length = 0
    t.equal((await h.bearer('/private', claims, tokenOptions)).statusCode, 401, `Bearer ${label}: 401`)
    t.same(seen.map((s) => [s.reason, s.scheme]), [[reason, 'bearer']], `Bearer ${label}: ${reason}`)
    seen.length = 0
    const res = await h.dpop('/private', claims, tokenOptions)
    t.same(seen.map((s) => [s.reason, s.scheme]), [[reason, 'dpop']], `DPoP ${label}: ${reason}`)
    const description = seen[0]?.description ?? ''
    expectError(t, res, { status: 401, error: 'invalid_token', description, challenge: `Bearer realm="api", ${dpopOnlyChallenge('invalid_token', description)}` })
  }
}

t.test('organization: true', async (t) => {
  await refusals(t, { organization: true }, [[{}, {}, 'organization_missing']])
})

t.test('organization: ids and names', async (t) => {
  await refusals(t, { organization: ['org_a', 'acme'] }, [
    [{}, {}, 'organization_missing'],
    [{ org_id: 'org_b', org_name: 'initech' }, {}, 'organization_not_allowed'],
    [{ org_id: 'org_b' }, {}, 'organization_name_missing']
  ])
})

t.test('organization: ids only', async (t) => {
  await refusals(t, { organization: ['org_a'] }, [[{ org_id: 'org_b', org_name: 'acme' }, {}, 'organization_not_allowed']])
})

t.test('organization: a function, synchronous and asynchronous', async (t) => {
  await refusals(t, { organization: ({ id }) => id === 'org_a' }, [
    [{}, {}, 'organization_missing'],
    [{ org_id: 'org_b' }, {}, 'organization_not_allowed']
  ])
  await refusals(t, { organization: async ({ id }) => id === 'org_a' }, [[{ org_id: 'org_b' }, {}, 'organization_not_allowed']])
})

t.test("profile 'rfc9068'", async (t) => {
  const atJwt = { header: { typ: 'at+jwt' } }
  await refusals(t, { profile: 'rfc9068' }, [
    [{ client_id: 'c', jti: 'j' }, { header: { typ: 'JWT' } }, 'typ_not_at_jwt'],
    [{ client_id: 'c', jti: 'j' }, { header: { typ: 'id+jwt' } }, 'typ_not_access_token'],
    [{ client_id: 'c', jti: 'j' }, { header: { typ: 42 } }, 'malformed'],
    [{ jti: 'j' }, atJwt, 'profile_claim_missing'],
    [{ client_id: 'c' }, atJwt, 'profile_claim_missing']
  ])
})

t.test('requiredClaims and maxTokenAge', async (t) => {
  await refusals(t, { requiredClaims: ['tenant'] }, [[{}, {}, 'claim_missing']])
  await refusals(t, { maxTokenAge: 60 }, [[{ iat: Math.floor(Date.now() / 1000) - 3600 }, {}, 'token_too_old']])
})

t.test("a typ is stripped of a leading application/ only (RFC 8725 §3.11 media type, profile 'any')", async (t) => {
  const h = await policyApp(t, {}, (app) => { app.get('/private', { preHandler: app.requireAuth() }, echo) })
  t.equal((await h.bearer('/private', {}, { header: { typ: 'x+jwtapplication/' } })).statusCode, 200, 'no +jwt suffix: not another JWT type')
  t.equal((await h.bearer('/private', {}, { header: { typ: 'application/id+jwt' } })).statusCode, 401, 'application/id+jwt is id+jwt')
})

t.test('maxTokenAge and step-up maxAge: the bound, clockTolerance included, is still accepted', async (t) => {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const now = 1_800_000_000
  Date.now = () => now * 1000
  const fail = (message: string): never => { throw new Error(message) }
  const claims = (extra: Record<string, unknown>): AccessTokenClaims => ({ iss: 'https://issuer.example/', sub: 's', aud: 'a', exp: now + 60, iat: now, ...extra }) as AccessTokenClaims
  // maxTokenAge 60, tolerance 10: issued 70 s ago passes, 71 s ago is too old.
  t.equal(checkTokenAge(claims({ iat: now - 70 }), 60, 10, 'bearer'), undefined, 'iat at maxTokenAge + clockTolerance')
  t.match(checkTokenAge(claims({ iat: now - 71 }), 60, 10, 'dpop'), { reason: 'token_too_old', scheme: 'dpop' })
  // Step-up maxAge 60, tolerance 10, with the default claim names (acr, auth_time).
  const stepUp = resolveStepUp({}, fail)
  t.same(stepUp, { acrClaim: 'acr', authTimeClaim: 'auth_time' }, 'default claim names')
  const requirement = compileStepUp(undefined, 60, fail)
  if (requirement === undefined) throw new Error('maxAge 60 compiles to a requirement')
  t.equal(checkStepUp(claims({ auth_time: now - 70 }), requirement, stepUp, 10, 'bearer'), undefined, 'auth_time at maxAge + clockTolerance')
  t.match(checkStepUp(claims({ auth_time: now - 71 }), requirement, stepUp, 10, 'bearer'), { reason: 'max_age_exceeded' })
})
