/**
 * What operators see of the key caches: a log line per event on the Fastify logger (fetches at
 * info, failures and stale use at warn, so they can alert) and, when given, the application's
 * `onKeySetEvent` hook, whose own failures never reach verification, and a message on the
 * `fastify-auth0-api:keys` diagnostics channel when anyone subscribes.
 */
import type { FastifyBaseLogger } from 'fastify'
import { publishKeySetEvent } from '../diagnostics/channels.js'
import type { KeySetEvent } from '../types.js'
import type { KeyEvents } from './issuer-keys.js'

export function keyEvents (log: FastifyBaseLogger, hook: ((event: KeySetEvent) => void) | undefined): KeyEvents {
  const emit = (event: KeySetEvent): void => {
    publishKeySetEvent(event)
    if (hook === undefined) return
    // An operator's hook must never break verification.
    try {
      Promise.resolve(hook(event)).catch((err: unknown) => log.error({ err }, 'fastify-auth0-api: onKeySetEvent failed'))
    } catch (err) {
      log.error({ err }, 'fastify-auth0-api: onKeySetEvent failed')
    }
  }
  return {
    fetched: ({ issuer, url, document }) => {
      log.info({ issuer, url }, `fastify-auth0-api: fetched ${document}`)
      emit({ type: 'fetched', issuer, url, document })
    },
    fetchFailed: ({ issuer, url, document, error }) => {
      log.warn({ issuer, url, document, err: error }, 'fastify-auth0-api: key fetch failed')
      emit({ type: 'fetch_failed', issuer, url, document, error })
    },
    stale: ({ issuer, expiredSeconds }) => {
      log.warn({ issuer, expiredSeconds }, 'fastify-auth0-api: issuer unreachable, serving cached keys past expiry')
      emit({ type: 'stale', issuer, expiredSeconds })
    },
    cacheFailed: ({ operation, key, error }) => {
      log.warn({ operation, key, err: error }, 'fastify-auth0-api: cache adapter failed, using the network and in-process keys')
      emit({ type: 'cache_failed', operation, key, error })
    }
  }
}
