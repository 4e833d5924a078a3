/**
 * Policy options are checked at start-up (plugin) or when the route is declared (requireAuth):
 * a mistake stops the application with a message naming the option, and an unset policy costs
 * nothing (nothing compiled, nothing run).
 */
import Fastify from 'fastify'
import t from 'tap'
import auth0Plugin, { type Auth0PluginOptions, type RequireAuthOptions } from '../../lib/index.js'
import { resolveConfig } from '../../lib/config/options.js'
import { routeRequirements } from '../../lib/scopes.js'
import { startupError } from '../helpers/startup.js'

const base = { issuerBaseURL: 'https://tenant.example.com/', audience: 'https://api.example.com/', env: {} }

t.test('defaults: profile any, no age limit, no required claims, acr/auth_time, no organization', async (t) => {
  const config = resolveConfig(base, {})
  t.strictSame(config.profile, { rfc9068: false, maxTokenAge: undefined, requiredClaims: [] })
  t.strictSame(config.stepUp, { acrClaim: 'acr', authTimeClaim: 'auth_time' })
  t.equal(config.organization, undefined)
  const route = routeRequirements('read:x')
  t.equal(route.organization, undefined)
  t.equal(route.stepUp, undefined)
  t.equal(route.check, undefined)
  t.strictSame(route.notes, [])
})

t.test('plugin options: start-up errors naming the option', async (t) => {
  const cases: Array<[string, Partial<Auth0PluginOptions>, RegExp]> = [
    ['profile', { profile: 'strict' as 'any' }, /profile must be "any" or "rfc9068"/],
    ['maxTokenAge 0', { maxTokenAge: 0 }, /maxTokenAge must be an integer number of seconds from 1 to 31536000/],
    ['maxTokenAge fraction', { maxTokenAge: 1.5 }, /maxTokenAge must be an integer/],
    ['maxTokenAge string', { maxTokenAge: '60' as unknown as number }, /maxTokenAge must be an integer/],
    ['requiredClaims not a list', { requiredClaims: 'tenant' as unknown as string[] }, /requiredClaims must be an array of claim names/],
    ['requiredClaims empty name', { requiredClaims: [''] }, /requiredClaims must be an array of claim names/],
    ['requiredClaims quote', { requiredClaims: ['a"b'] }, /requiredClaims must be an array of claim names/],
    ['stepUp not an object', { stepUp: 'acr' as unknown as object }, /stepUp must be \{ acrClaim\?, authTimeClaim\? \}/],
    ['stepUp array', { stepUp: [] as unknown as object }, /stepUp must be/],
    ['stepUp unknown key', { stepUp: { amrClaim: 'amr' } as unknown as object }, /stepUp: unknown option "amrClaim" \(known: acrClaim, authTimeClaim\)/],
    ['stepUp.acrClaim space', { stepUp: { acrClaim: 'my acr' } }, /stepUp.acrClaim must be a claim name/],
    ['stepUp.authTimeClaim number', { stepUp: { authTimeClaim: 5 as unknown as string } }, /stepUp.authTimeClaim must be a claim name/],
    ['organization empty list', { organization: [] }, /organization must be true, an organization id or name, a non-empty list of them, or a function/],
    ['organization blank', { organization: '  ' }, /organization must be true/],
    ['organization false-y', { organization: 0 as unknown as string }, /organization must be true/],
    ['maxTokenAge over a year', { maxTokenAge: 31_536_001 }, /maxTokenAge must be an integer number of seconds from 1 to 31536000/],
    ['requiredClaims not a string', { requiredClaims: [5 as unknown as string] }, /requiredClaims must be an array of claim names/],
    ['organization list with a number', { organization: ['org_a', 5 as unknown as string] }, /organization must be true/],
    ['organization list with a blank', { organization: ['org_a', ' '] }, /organization must be true/]
  ]
  for (const [name, options, message] of cases) {
    const err = await startupError({ ...base, ...options } as Auth0PluginOptions)
    t.match(err.message, /^fastify-auth0-api: /, name)
    t.match(err.message, message, name)
  }
})

t.test('route options: errors when the route is declared', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(auth0Plugin, base)
  const cases: Array<[string, RequireAuthOptions, RegExp]> = [
    ['acr empty list', { acr: [] }, /requireAuth: acr must be an acr value or a non-empty list of them/],
    ['acr with a space', { acr: 'a b' }, /acr must be an acr value/],
    ['acr with a quote', { acr: 'a"b' }, /acr must be an acr value/],
    ['acr not a string', { acr: 5 as unknown as string }, /acr must be an acr value/],
    ['maxAge negative', { maxAge: -1 }, /requireAuth: maxAge must be an integer number of seconds from 0 to 31536000/],
    ['maxAge string', { maxAge: '60' as unknown as number }, /maxAge must be an integer/],
    ['maxAge over a year', { maxAge: 31_536_001 }, /maxAge must be an integer number of seconds from 0 to 31536000/],
    ['acr list with a number', { acr: ['gold', 5 as unknown as string] }, /acr must be an acr value/],
    ['acr list with a space', { acr: ['gold', 'a b'] }, /acr must be an acr value/],
    ['check not a function', { check: true as unknown as () => boolean }, /requireAuth: check must be a function/],
    ['organization empty list', { organization: [] }, /requireAuth: organization must be true, an organization id or name/],
    ['organization object', { organization: { id: 'org_1' } as unknown as string }, /organization must be true/]
  ]
  for (const [name, spec, message] of cases) t.throws(() => app.requireAuth(spec), message, name)
  t.throws(() => app.requireAuth({ acr: 'gold', check: claimless() }), /check must be a function/)
})

function claimless (): () => boolean {
  return 'not a function' as unknown as () => boolean
}

t.test('the bounds of maxTokenAge and maxAge are allowed values', async (t) => {
  for (const maxTokenAge of [1, 31_536_000]) t.equal(resolveConfig({ ...base, maxTokenAge }, {}).profile.maxTokenAge, maxTokenAge)
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(auth0Plugin, base)
  for (const maxAge of [0, 31_536_000]) t.doesNotThrow(() => app.requireAuth({ maxAge }), `maxAge ${maxAge}`)
})
