/**
 * `node:diagnostics_channel` publication (SPEC §10), no dependency:
 * - `fastify-auth0-api:auth`: one `AuthMessage` per verification;
 * - `fastify-auth0-api:keys`: one `KeysMessage` per key-set event;
 * - tracing channel `fastify-auth0-api:verify`: start / end / asyncStart / asyncEnd / error around
 *   each verification, with a `VerifyContext`.
 * Nothing here runs unless someone subscribes: the verifier asks `observing()` (a few getter
 * reads) and takes its usual path when it answers false, so no object, closure or promise is
 * made for diagnostics. No message carries a token, a proof, a key or a claim value but `iss`.
 */
import dc from 'node:diagnostics_channel'
import type { AuthError, ChallengeScheme } from '../errors.js'
import type { KeySetEvent } from '../types.js'
import { isPromise, type MaybePromise } from '../util/maybe-async.js'

/** The channel names, for `diagnostics_channel.subscribe(…)` / `tracingChannel(…)`. */
export const diagnosticsChannels = Object.freeze({
  auth: 'fastify-auth0-api:auth',
  keys: 'fastify-auth0-api:keys',
  verify: 'fastify-auth0-api:verify'
} as const)

/**
 * What a verification decided. `accepted`: a valid token (or, with no `scheme`, an anonymous
 * request on an `optional` route); `refused`: a 4xx `AuthError`; `error`: a 5xx one (issuer or
 * replay store unavailable, anything unexpected).
 */
export type AuthOutcome = 'accepted' | 'refused' | 'error'

/** Published on `fastify-auth0-api:auth`, once per verification. */
export interface AuthMessage {
  outcome: AuthOutcome
  /** The refusal's stable `reason` (`token_expired`, `insufficient_scope` …); absent when accepted. */
  reason?: string
  /** The refusal's status (400, 401, 403, 500, 503); absent when accepted. */
  statusCode?: number
  /** The scheme the credentials came with, when known (always on an accepted token). */
  scheme?: ChallengeScheme
  /** The verified token's `iss`; accepted tokens only (a refused token's `iss` is the client's word). */
  issuer?: string
  /** True when the verified-token cache answered (signature and claims not verified again). */
  cached: boolean
  /** The route pattern (`/messages/:id`); `undefined` for `fastify.auth0.verify()`. */
  route: string | undefined
  /** The request method. */
  method: string
}

/**
 * The context of the `fastify-auth0-api:verify` tracing channel. At `start` only `method` and
 * `route` are set; from `end` (synchronous verification) or `asyncStart` (one that waited) it
 * also holds the `AuthMessage` fields. `error` is set, and the `error` event published, when the
 * verification does not accept: the `AuthError` that `fastify.auth0.verify()` would throw, as a
 * copy without `cause` (a cause can hold claim values) whose changes cannot reach the reply.
 */
export interface VerifyContext extends Partial<Omit<AuthMessage, 'route' | 'method'>> {
  route: string | undefined
  method: string
  error?: AuthError
}

/**
 * Published on `fastify-auth0-api:keys`: the `onKeySetEvent` event, with `error` (in
 * `fetch_failed` and `cache_failed`) replaced by a plain copy keeping `name`, `message`, `code`,
 * `stack` and the `cause` chain, so that no property a client library hangs on an error (a Redis
 * command's arguments: a cached document) is published.
 */
export type KeysMessage = KeySetEvent

/** What the verifier knows of a finished verification. */
export type Verdict = Omit<VerifyContext, 'route' | 'method'> & { outcome: AuthOutcome, cached: boolean }

const authChannel = dc.channel(diagnosticsChannels.auth)
const keysChannel = dc.channel(diagnosticsChannels.keys)
const verifyChannel = dc.tracingChannel<unknown, VerifyContext>(diagnosticsChannels.verify)

/** True when anyone listens to the auth or verify channels: only then is a verification observed. */
export function observing (): boolean {
  return authChannel.hasSubscribers || verifyChannel.hasSubscribers
}

/**
 * Runs one verification inside the tracing channel and publishes its `AuthMessage`. Called only
 * when `observing()`. `run` keeps its shape: a synchronous verification stays synchronous, and a
 * waiting one gets one `then` for the asyncStart / asyncEnd events.
 */
export function observe<T> (request: { readonly method: string, readonly route?: string | undefined }, run: () => MaybePromise<T>, verdict: (value: T) => Verdict): MaybePromise<T> {
  const context: VerifyContext = { method: request.method, route: request.route }
  const settle = (value: T, async: boolean): T => {
    const found = verdict(value)
    Object.assign(context, found)
    if (authChannel.hasSubscribers) {
      const message: AuthMessage = { outcome: found.outcome, cached: found.cached, route: context.route, method: context.method }
      if (found.reason !== undefined) message.reason = found.reason
      if (found.statusCode !== undefined) message.statusCode = found.statusCode
      if (found.scheme !== undefined) message.scheme = found.scheme
      if (found.issuer !== undefined) message.issuer = found.issuer
      authChannel.publish(message)
    }
    if (found.error !== undefined) verifyChannel.error.publish(context)
    if (async) {
      verifyChannel.asyncStart.publish(context)
      verifyChannel.asyncEnd.publish(context)
    }
    return value
  }
  // `runStores`: a store bound to `start` (an OpenTelemetry context, say) is active during the
  // verification, so the spans of a key fetch it makes are its children.
  return verifyChannel.start.runStores(context, () => {
    const outcome = run()
    if (isPromise(outcome)) {
      verifyChannel.end.publish(context)
      return outcome.then((value) => settle(value, true))
    }
    settle(outcome, false)
    verifyChannel.end.publish(context)
    return outcome
  })
}

/** A refusal as subscribers see it: no `cause`, its own headers object. */
export function publicAuthError (err: AuthError): AuthError {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as AuthError
  for (const key of Reflect.ownKeys(err)) {
    if (key === 'cause') continue
    Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(err, key) as PropertyDescriptor)
  }
  copy.headers = { ...err.headers }
  return copy
}

/** Publishes a key-set event when anyone listens. */
export function publishKeySetEvent (event: KeySetEvent): void {
  if (!keysChannel.hasSubscribers) return
  const message: KeysMessage = event.type === 'fetch_failed' || event.type === 'cache_failed' ? { ...event, error: plainError(event.error) } : { ...event }
  keysChannel.publish(message)
}

/** Causes followed at most this deep. */
const MAX_CAUSES = 4

function plainError (err: unknown, depth = 0): Error {
  // A cause that is no Error: a string is kept, anything else (an object could be a document) named by its type.
  const source = err instanceof Error ? err : new Error(typeof err === 'string' ? err : `(${typeof err})`)
  const cause = depth < MAX_CAUSES && source.cause !== undefined ? { cause: plainError(source.cause, depth + 1) } : undefined
  const copy = new Error(source.message, cause) as Error & { code?: unknown }
  copy.name = source.name
  copy.stack = source.stack
  const code = (source as { code?: unknown }).code
  if (typeof code === 'string') copy.code = code
  return copy
}
