/**
 * Per-route claim checks (SPEC §8): `check(claims, request)` answers `true` (or a promise of it)
 * to accept; anything else refuses with 403 `insufficient_scope`. A check that throws or rejects
 * is a 500 (logged), never an accept. `claimEquals` and `claimIncludes` build the usual checks,
 * as express-oauth2-jwt-bearer does, and carry a description of what they require so the refusal
 * can say it.
 */
import { InsufficientScopeError, InternalAuthError, type AuthError, type ChallengeScheme } from '../errors.js'
import type { AccessTokenClaims, ClaimCheck, JSONPrimitive } from '../types.js'
import type { MaybePromise } from '../util/maybe-async.js'
import { describable, list } from './text.js'


/** Where the builders keep the text of their refusal. */
const DESCRIPTION: unique symbol = Symbol('fastify-auth0-api.check-description')

type Described = ClaimCheck & { [DESCRIPTION]?: string }

function described<R> (check: ClaimCheck<R>, description: string): ClaimCheck<R> {
  if (describable(description)) Object.defineProperty(check, DESCRIPTION, { value: description })
  return check
}

function shown (value: JSONPrimitive): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function checkName (name: unknown, builder: string): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`fastify-auth0-api: ${builder}: the claim name must be a non-empty string`)
}

function checkPrimitive (value: unknown, builder: string): asserts value is JSONPrimitive {
  if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
    throw new TypeError(`fastify-auth0-api: ${builder}: expected values must be strings, numbers, booleans or null`)
  }
}

/** The claim equals `expected` (strict equality; a JSON primitive). */
export function claimEquals<R = unknown> (name: string, expected: JSONPrimitive): ClaimCheck<R> {
  checkName(name, 'claimEquals')
  checkPrimitive(expected, 'claimEquals')
  return described((claims) => claims[name] === expected, `claim ${name} must be ${shown(expected)}`)
}

/**
 * The claim holds every one of `expected`: an array containing each, or a space-separated string
 * containing each (whole values: `read:message` is not `read:messages`), or, for one expected
 * value, that value itself.
 */
export function claimIncludes<R = unknown> (name: string, ...expected: JSONPrimitive[]): ClaimCheck<R> {
  checkName(name, 'claimIncludes')
  if (expected.length === 0) throw new TypeError('fastify-auth0-api: claimIncludes: name at least one expected value')
  for (const value of expected) checkPrimitive(value, 'claimIncludes')
  return described((claims) => {
    const actual = claims[name]
    if (Array.isArray(actual)) return expected.every((value) => actual.includes(value))
    if (typeof actual === 'string') {
      const values = actual.split(' ')
      return expected.every((value) => typeof value === 'string' && values.includes(value))
    }
    return expected.length === 1 && actual === expected[0]
  }, `claim ${name} must include ${list(expected.map(shown))}`)
}

/** A route's `check`, compiled: `undefined` accepts, else the refusal (403, or 500 on a throw). */
export type CompiledCheck = (claims: AccessTokenClaims, request: unknown, scheme: ChallengeScheme) => MaybePromise<AuthError | undefined>

const REFUSED = 'token refused by the route claim check'

export function compileCheck (check: unknown, fail: (message: string) => never): CompiledCheck {
  if (typeof check !== 'function') fail('check must be a function (claims, request) => boolean | Promise<boolean>')
  const fn = check as Described
  const description = fn[DESCRIPTION] ?? REFUSED
  const verdict = (accepted: unknown, scheme: ChallengeScheme): AuthError | undefined =>
    accepted === true ? undefined : new InsufficientScopeError([], description, scheme, 'check_failed')
  const failed = (err: unknown): AuthError => new InternalAuthError('check_error', { cause: err })
  return (claims, request, scheme) => {
    let accepted: boolean | Promise<boolean>
    try {
      accepted = fn(claims, request)
    } catch (err) {
      return failed(err)
    }
    if (accepted instanceof Promise) return accepted.then((value) => verdict(value, scheme), failed)
    return verdict(accepted, scheme)
  }
}
