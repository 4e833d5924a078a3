/**
 * One `IssuerKeys` per allowed issuer, created on first use and shared by every route. Bounded:
 * with a dynamic `domains` resolver the set of issuers is open-ended, so the least recently used
 * issuer is dropped past `maxIssuers`.
 */
import type { ResolvedConfig, ResolvedIssuer } from '../config/options.js'
import { IssuerKeys, type KeyEvents } from './issuer-keys.js'

export class IssuerRegistry {
  readonly #config: ResolvedConfig
  readonly #events: KeyEvents
  readonly #entries = new Map<string, IssuerKeys>()

  constructor (config: ResolvedConfig, events: KeyEvents) {
    this.#config = config
    this.#events = events
  }

  keysFor (entry: ResolvedIssuer): IssuerKeys {
    const id = `${entry.issuer}\n${entry.jwksUri ?? ''}`
    let keys = this.#entries.get(id)
    if (keys !== undefined) {
      // Re-insert to mark as most recently used.
      this.#entries.delete(id)
      this.#entries.set(id, keys)
      return keys
    }
    const { cache, timeout, staleIfError, jwks } = this.#config
    keys = new IssuerKeys({
      issuer: entry.issuer,
      ...(entry.jwksUri !== undefined ? { jwksUri: entry.jwksUri } : {}),
      ...(jwks !== undefined ? { jwks } : {}),
      timeout,
      ttl: cache.ttl,
      cooldown: cache.cooldown,
      failureBackoff: cache.failureBackoff,
      staleIfError,
      events: this.#events
    })
    this.#entries.set(id, keys)
    if (this.#entries.size > cache.maxIssuers) {
      this.#entries.delete(this.#entries.keys().next().value as string)
    }
    return keys
  }
}
