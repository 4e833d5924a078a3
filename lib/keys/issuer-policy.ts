/**
 * Decides, from the token's *unverified* `iss`, which configured issuer may verify it — before
 * any network call, so a token naming any other issuer costs nothing and reaches no URL.
 */
import type { ResolvedConfig, ResolvedIssuer } from '../config/options.js'
import { resolveIssuerEntry } from '../config/options.js'
import { InternalAuthError, InvalidTokenError, type ChallengeScheme } from '../errors.js'
import type { VerifyRequest } from '../types.js'
import type { MaybePromise } from '../util/maybe-async.js'

export class IssuerPolicy {
  readonly #config: ResolvedConfig
  readonly #static = new Map<string, ResolvedIssuer>()

  constructor (config: ResolvedConfig) {
    this.#config = config
    for (const entry of config.issuers) this.#static.set(entry.issuer, entry)
    for (const entry of config.issuers) {
      const other = slashVariant(entry)
      if (other !== undefined && !this.#static.has(other)) this.#static.set(other, entry)
    }
  }

  /** Synchronous for a configured list (throws), a promise with a `domains` resolver (rejects). */
  resolve (iss: unknown, request: VerifyRequest, scheme: ChallengeScheme): MaybePromise<ResolvedIssuer> {
    if (typeof iss !== 'string' || iss === '') {
      throw new InvalidTokenError('issuer_missing', 'access token has no iss claim', { scheme })
    }
    if (this.#config.domainsResolver !== undefined) return this.#resolveDynamic(this.#config.domainsResolver, iss, request, scheme)
    const entry = this.#static.get(iss)
    if (entry === undefined) throw new InvalidTokenError('issuer_not_allowed', 'issuer not allowed', { scheme })
    return entry
  }

  async #resolveDynamic (resolver: NonNullable<ResolvedConfig['domainsResolver']>, iss: string, request: VerifyRequest, scheme: ChallengeScheme): Promise<ResolvedIssuer> {
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
    const entry = entries.find((e) => e.issuer === iss) ?? entries.find((e) => slashVariant(e) === iss)
    if (entry === undefined) throw new InvalidTokenError('issuer_not_allowed', 'issuer not allowed', { scheme })
    return entry
  }
}

/**
 * The other spelling of an issuer URL (trailing slash or not) that may also be allowed: a URL
 * configured without its trailing slash (or with a path) may be discovered with the other
 * spelling; discovery pins the exact form and jose then compares `iss` with it exactly. A bare
 * origin written with its slash (every `domain`) is exact, and so is an entry with a `jwksUri`
 * (no discovery to pin another form): the other spelling costs no fetch.
 */
function slashVariant (entry: ResolvedIssuer): string | undefined {
  const { issuer } = entry
  if (entry.jwksUri !== undefined || (issuer.endsWith('/') && new URL(issuer).pathname === '/')) return undefined
  return issuer.endsWith('/') ? issuer.slice(0, -1) : `${issuer}/`
}
