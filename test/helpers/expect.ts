/**
 * Assertions shared by the core tests: every failure is checked for its status, its `error`
 * code, the exact body shape `{"detail":{"error","error_description"}}`, the exact
 * `WWW-Authenticate` line (or its absence), and, through the grammar oracle
 * (./www-authenticate.ts, independent of lib/), that the line obeys RFC 9110 §11 and each
 * parameter its own RFC, with the challenge's error and description equal to the body's.
 */
import type { FastifyInstance, LightMyRequestResponse as InjectResponse } from 'fastify'
import type { Test } from 'tap'
import { assertChallenges, checkRefusal, type CheckedRefusal } from './www-authenticate.js'

type Tap = Pick<Test, 'equal' | 'strictSame' | 'match' | 'ok'>

/**
 * The oracle's verdict on a reply (any reply: a refusal, or a success carrying no challenge):
 * one assertion. Use it wherever a test reads `www-authenticate` by hand.
 */
export function expectGrammar (t: Pick<Test, 'ok'>, res: { statusCode: number, headers: Record<string, unknown>, body?: unknown }): CheckedRefusal | undefined {
  let body: unknown = res.body
  if (typeof body === 'string') {
    try { body = JSON.parse(body) } catch { body = undefined }
  }
  return assertChallenges(t, { statusCode: res.statusCode, headers: res.headers, body })
}

/**
 * The reply an `AuthError` stands for (its status, its `headers`, its `toJSON()` body) through the
 * oracle: for an error `fastify.auth0.verify()` threw or `Challenges.apply` filled, which no reply
 * carried. Duck-typed, so this helper loads nothing from lib/.
 */
export function expectErrorGrammar (t: Pick<Test, 'ok'>, err: unknown): CheckedRefusal | undefined {
  const e = err as { statusCode?: unknown, headers?: unknown, toJSON?: unknown } | null | undefined
  if (typeof e?.statusCode !== 'number' || typeof e.headers !== 'object' || typeof e.toJSON !== 'function') {
    t.ok(false, `an AuthError, not ${String(err)}`)
    return undefined
  }
  return expectGrammar(t, { statusCode: e.statusCode, headers: e.headers as Record<string, unknown>, body: (e.toJSON as () => unknown).call(e) })
}

export interface ExpectedError {
  status: number
  error: string
  description: string
  /** Exact `WWW-Authenticate` value; `null` when the header must be absent. */
  challenge: string | null
}

/** Default algs of the DPoP challenge. */
export const DPOP_ALGS = 'ES256'

/** The bare challenge of a route in mode `allowed` (RFC 6750 §3.1: no error parameter). */
export const BARE = `Bearer realm="api", DPoP algs="${DPOP_ALGS}"`

/** RFC 9110 quoted-string: `"` and `\\` are backslash-escaped. */
export function q (value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`
}

/** Challenge line for an error reported on the Bearer challenge, in mode `allowed` by default. */
export function bearerChallenge (error: string, description: string, options: { scope?: string, mode?: 'allowed' | 'disabled', realm?: string } = {}): string {
  const scope = options.scope === undefined ? '' : `, scope=${q(options.scope)}`
  const bearer = `Bearer realm=${q(options.realm ?? 'api')}, error="${error}", error_description=${q(description)}${scope}`
  return options.mode === 'disabled' ? bearer : `${bearer}, DPoP algs="${DPOP_ALGS}"`
}

/** Challenge line for an error reported on the DPoP challenge of a route in mode `required`. */
export function dpopOnlyChallenge (error: string, description: string): string {
  return `DPoP error="${error}", error_description=${q(description)}, algs="${DPOP_ALGS}"`
}

export function expectError (t: Tap, res: InjectResponse, expected: ExpectedError): void {
  t.equal(res.statusCode, expected.status, `status ${expected.status}`)
  t.match(res.headers['content-type'], /^application\/json/, 'JSON body')
  t.strictSame(JSON.parse(res.body), { detail: { error: expected.error, error_description: expected.description } }, 'body shape')
  t.equal(res.headers['www-authenticate'], expected.challenge ?? undefined, 'WWW-Authenticate')
  expectGrammar(t, res)
}

/** Shortcut: a 401 `invalid_token` reported on the Bearer challenge of an `allowed` route. */
export function expectInvalidToken (t: Tap, res: InjectResponse, description: string): void {
  expectError(t, res, { status: 401, error: 'invalid_token', description, challenge: bearerChallenge('invalid_token', description) })
}

/** Shortcut: a 400 `invalid_request` reported on the Bearer challenge of an `allowed` route. */
export function expectInvalidRequest (t: Tap, res: InjectResponse, description: string): void {
  expectError(t, res, { status: 400, error: 'invalid_request', description, challenge: bearerChallenge('invalid_request', description) })
}

/** Shortcut: the 503 of an unreachable issuer: `Retry-After`, no challenge. */
export function expectUnavailable (t: Tap, res: InjectResponse): void {
  expectError(t, res, { status: 503, error: 'temporarily_unavailable', description: 'authorization server unreachable, retry later', challenge: null })
  t.match(res.headers['retry-after'], /^[1-9]\d*$/, 'Retry-After in whole seconds')
}

/** Shortcut: the 500 of anything unexpected: no challenge, no detail. */
export function expectInternal (t: Tap, res: InjectResponse): void {
  expectError(t, res, { status: 500, error: 'internal_server_error', description: 'internal error', challenge: null })
}

/**
 * Puts every reply of `app` through the grammar oracle (status, WWW-Authenticate, body), whether
 * or not a test looks at it; a violation fails the test at teardown with the offending header.
 * Call before `app.ready()`.
 */
export function oracleEveryReply (app: FastifyInstance, t: { teardown (fn: () => unknown): void }): void {
  const violations: string[] = []
  app.addHook('onSend', async (_request, reply, payload) => {
    const headers = reply.getHeaders()
    if (headers['www-authenticate'] !== undefined || reply.statusCode === 401) {
      let body: unknown
      try { body = typeof payload === 'string' ? JSON.parse(payload) : undefined } catch { body = undefined }
      try {
        checkRefusal({ statusCode: reply.statusCode, headers, body })
      } catch (err) {
        violations.push((err as Error).message)
      }
    }
    return payload
  })
  t.teardown(() => {
    if (violations.length > 0) throw new Error(`replies failed the WWW-Authenticate oracle:\n${violations.join('\n')}`)
  })
}
