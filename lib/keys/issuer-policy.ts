/**
 * Decides, from the token's *unverified* `iss`, which configured issuer may verify it — before
 * any network call, so a token naming any other issuer costs nothing and reaches no URL.
 */
import type { ResolvedConfig, ResolvedIssuer } from '../config/options.js'
import { resolveIssuerEntry } from '../config/options.js'
import { InternalAuthError, InvalidTokenError, type ChallengeScheme } from '../errors.js'
import type { VerifyRequest } from '../types.js'

export class IssuerPolicy {
  readonly #config: ResolvedConfig
  readonly #static = new Map<string, ResolvedIssuer>()

  constructor (config: ResolvedConfig) {
    this.#config = config
    for (const entry of config.issuers) {
      this.#static.set(entry.issuer, entry)
      // A URL configured without its trailing slash (or with a path) may be discovered with the other
      // spelling; discovery pins the exact form and jose then compares `iss` with it exactly. A bare
      // origin written with its slash (every `domain`) is exact: the other spelling costs no fetch.
      const other = entry.issuer.endsWith('/') ? entry.issuer.slice(0, -1) : `${entry.issuer}/`
      if (!this.#static.has(other) && (!entry.issuer.endsWith('/') || new URL(entry.issuer).pathname !== '/')) this.#static.set(other, entry)
    }
  }

  async resolve (iss: unknown, request: VerifyRequest, scheme: ChallengeScheme): Promise<ResolvedIssuer> {
    if (typeof iss !== 'string' || iss === '') {
      throw new InvalidTokenError('issuer_missing', 'access token has no "iss" claim', { scheme })
    }
    const resolver = this.#config.domainsResolver
    if (resolver === undefined) {
      const entry = this.#static.get(iss)
      if (entry === undefined) throw new InvalidTokenError('issuer_not_allowed', 'issuer not allowed', { scheme })
      return entry
    }
    let listed: unknown
    try {
      listed = await resolver({ unverifiedIss: iss, request })
    } catch (err) {
      throw new InternalAuthError('domains_resolver_failed', { cause: err })
    }
    if (!Array.isArray(listed)) {
      throw new InternalAuthError('domains_resolver_failed', { cause: new TypeError('domains resolver must return an array') })
    }
    let entries: ResolvedIssuer[]
    try {
      entries = listed.map((entry, i) => resolveIssuerEntry(entry as string, `domains resolver result [${i}]`, this.#config.algorithms))
    } catch (err) {
      throw new InternalAuthError('domains_resolver_failed', { cause: err })
    }
    const entry = entries.find((e) => e.issuer === iss)
    if (entry === undefined) throw new InvalidTokenError('issuer_not_allowed', 'issuer not allowed', { scheme })
    return entry
  }
}
