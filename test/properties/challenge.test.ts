/**
 * Property: the challenge builder (lib/http/challenge.ts) and everything that feeds it. Any realm
 * and DPoP algorithm list the plugin's option validation accepts (lib/config/options.ts), any
 * scope list, `match`, `claim`, `acr` list and `maxAge` a route's validation accepts
 * (lib/scopes.ts, lib/policies/step-up.ts), any description text of any error class (made safe
 * where the error is made, lib/errors.ts), on either scheme and in every DPoP mode, give a
 * `WWW-Authenticate` line the grammar oracle (test/helpers/www-authenticate.ts) accepts, with the
 * challenge's error and description equal to the body's. What validation refuses is refused at
 * start-up with a TypeError/Error naming it, never sent.
 */
import fc from 'fast-check'
import t from 'tap'
import { resolveConfig } from '../../lib/config/options.js'
import { Challenges, type DpopMode } from '../../lib/http/challenge.js'
import {
  AuthError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  UseDpopNonceError
} from '../../lib/errors.js'
import { compileStepUp } from '../../lib/policies/step-up.js'
import { routeRequirements, scopeRefusal } from '../../lib/scopes.js'
import type { AccessTokenClaims } from '../../lib/types.js'
import { checkRefusal } from '../helpers/www-authenticate.js'
import { fcOptions } from '../helpers/property.js'

/** The plugin's own validation of `realm` and `dpop.algorithms`; undefined when it refuses them. */
function challengesFor (realm: string, algorithms: string[]): Challenges | undefined {
  try {
    const config = resolveConfig({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example/', realm, dpop: { algorithms } }, {})
    return new Challenges({ realm: config.realm, dpopAlgorithms: config.dpop.algorithms })
  } catch (err) {
    if (!(err instanceof Error) || !/realm|algorithm/i.test(err.message)) throw err
    return undefined
  }
}

/** A route's validation; undefined when it refuses the spec at declaration. */
function declared<T> (make: () => T): T | undefined {
  try {
    return make()
  } catch (err) {
    if (!(err instanceof TypeError)) throw err
    return undefined
  }
}

// Text of every kind: printable ASCII (quotes and backslashes included), controls, any Unicode.
const anyText = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'ab "\\\'<>,;=:%\t'.split('')), maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ maxLength: 12 })
)
const realm = fc.oneof({ weight: 3, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 }) }, { weight: 1, arbitrary: anyText })
const algs = fc.oneof(
  { weight: 3, arbitrary: fc.subarray(['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'], { minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.subarray(['ES256', 'ES384', 'HS256', 'none', 'ES256'], { minLength: 0, maxLength: 4 }) }
)
const scopeItem = fc.oneof(fc.constantFrom('read:messages', 'a', 'admin', 'x"y', 'a b', '', 'é'), anyText)
const scopes = fc.oneof(scopeItem, fc.array(scopeItem, { maxLength: 4 }))
const acr = fc.oneof(fc.constant(undefined), scopeItem, fc.array(scopeItem, { maxLength: 3 }))
const maxAge = fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 40_000_000 }), fc.constantFrom(0, 1.5, Number.NaN))
const scheme = fc.constantFrom('bearer' as const, 'dpop' as const)
const mode = fc.constantFrom<DpopMode>('allowed', 'required', 'disabled')

const simpleError = fc.tuple(fc.constantFrom('request', 'token', 'proof', 'nonce'), anyText, scheme).map(([kind, description, s]): AuthError => {
  switch (kind) {
    case 'request': return new InvalidRequestError('r', description, { scheme: s })
    case 'token': return new InvalidTokenError('r', description, { scheme: s })
    case 'proof': return new InvalidDpopProofError('r', description)
    default: return new UseDpopNonceError('r', description, 'n'.repeat(43))
  }
})

t.test('any accepted realm, algs, scopes, acr list, max_age and any description give a header the oracle accepts', async (t) => {
  let built = 0
  fc.assert(fc.property(
    realm, algs, scopes, fc.constantFrom('all' as const, 'any' as const), fc.constantFrom('scope', 'permissions', 'roles', 'scp'), acr, maxAge,
    fc.dictionary(fc.constantFrom('scope', 'permissions', 'roles', 'scp'), fc.oneof(anyText, fc.array(anyText, { maxLength: 3 }))),
    simpleError, anyText, scheme, mode,
    (realmValue, algorithms, routeScopes, match, claim, acrValue, maxAgeValue, claims, simple, description, s, m) => {
      const challenges = challengesFor(realmValue, algorithms)
      if (challenges === undefined) return
      const route = declared(() => routeRequirements({ scopes: routeScopes, match, claim }))
      const stepUp = declared(() => compileStepUp(acrValue, maxAgeValue, (message) => { throw new TypeError(message) }))
      const errors: AuthError[] = [simple]
      if (route !== undefined) errors.push(scopeRefusal(claims as unknown as AccessTokenClaims, route, s), new InsufficientScopeError(route.refusal.challengeScopes, description, s, 'check_failed'))
      if (stepUp !== undefined) {
        const err = new InsufficientUserAuthenticationError('acr_missing', description, s, stepUp.acrValues, stepUp.maxAge)
        if (route !== undefined) err.requiredScopes = route.refusal.challengeScopes
        errors.push(err)
      }
      for (const err of errors) {
        challenges.apply(err, m)
        built++
        // Throws a GrammarError naming the violation and the header.
        checkRefusal({ statusCode: err.statusCode, headers: err.headers, body: JSON.parse(JSON.stringify(err)) })
      }
    }), fcOptions(1000))
  t.ok(built > 0, `headers built and checked (${built})`)
})

t.test('what validation refuses is never sent: a realm outside printable ASCII, a scope or acr value outside NQCHAR', async (t) => {
  t.equal(challengesFor('caf\u00e9', ['ES256']), undefined, 'realm with é')
  t.equal(challengesFor('a\nb', ['ES256']), undefined, 'realm with a newline')
  t.ok(challengesFor('my "quoted" \\ realm', ['ES256']), 'a quote and a backslash are quoted-pairs')
  t.equal(declared(() => routeRequirements({ scopes: ['a"b'] })), undefined, 'scope with a quote')
  t.equal(declared(() => routeRequirements({ scopes: ['a\\b'] })), undefined, 'scope with a backslash')
  t.equal(declared(() => compileStepUp(['gold silver'], undefined, (message) => { throw new TypeError(message) })), undefined, 'acr value with a space')
})
