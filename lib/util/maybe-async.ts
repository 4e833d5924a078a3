/**
 * Values that are ready now or later. The request hot path (a cached key, a cached token, a
 * static issuer list) needs no I/O, and every `await` on it would still cost a microtask turn and
 * a promise; so those steps return the value itself and only the steps that wait (a key fetch,
 * jose's WebCrypto fallback, a resolver, the replay store) return a promise.
 */
export type MaybePromise<T> = T | Promise<T>

export function isPromise<T> (value: MaybePromise<T>): value is Promise<T> {
  return value instanceof Promise
}

/** `fn(value)` now when `value` is ready, else once it settles (a rejection skips `fn`). */
export function then<T, R> (value: MaybePromise<T>, fn: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(value) ? value.then(fn) : fn(value)
}
