/**
 * HMAC verification (SPEC §9): an Auth0 API set to HS256 signs its access tokens with the API's
 * signing secret, used as-is (a string's UTF-8 bytes, or the bytes given). A verifier with a
 * secret is a kind of its own: HMAC algorithms only, no discovery, no JWKS, no other key. Mixing
 * a shared secret with public keys is how the RS256 → HS256 key-confusion forgeries happened
 * (CVE-2015-9235, CVE-2022-23541), so every mix is a start-up error naming the options.
 * The secret is imported once per allowed algorithm as a non-extractable WebCrypto key: jose and
 * the fast path (lib/jwt/fast-verify.ts) use it as they use a JWKS key; the MAC comparison is
 * WebCrypto's (jose) or node:crypto's `timingSafeEqual` (fast path), never ours.
 */
import { webcrypto } from 'node:crypto'
import { errors as joseErrors, type CryptoKey, type JWSHeaderParameters } from 'jose'
import type { KeySource, VerificationKeys } from './key-source.js'

const PREFIX = 'fastify-auth0-api: '

/** HMAC algorithms and the hash length in bytes, the shortest secret each accepts (RFC 7518 §3.2). */
export const HMAC_ALGORITHMS: ReadonlyMap<string, number> = new Map([['HS256', 32], ['HS384', 48], ['HS512', 64]])

function fail (message: string): never {
  throw new Error(PREFIX + message)
}

export interface ResolvedSecret {
  bytes: Uint8Array
  /** Where it came from, for start-up messages: `secret` or `AUTH0_SIGNING_SECRET`. */
  name: string
}

/** The secret from the option, else from `AUTH0_SIGNING_SECRET`; `undefined` when neither is set. */
export function resolveSecret (option: unknown, env: string | undefined): ResolvedSecret | undefined {
  if (option !== undefined) {
    if (typeof option === 'string') return { bytes: new TextEncoder().encode(option), name: 'secret' }
    if (option instanceof Uint8Array) return { bytes: Uint8Array.from(option), name: 'secret' }
    fail('secret must be a string (used as its UTF-8 bytes) or a Buffer / Uint8Array')
  }
  return env === undefined ? undefined : { bytes: new TextEncoder().encode(env), name: 'AUTH0_SIGNING_SECRET' }
}

/**
 * The algorithms of a verifier with a secret: `['HS256']` by default, HMAC only, each no longer
 * than the secret (a key shorter than the hash is refused by RFC 7518 §3.2).
 */
export function hmacAlgorithms (value: unknown, secret: ResolvedSecret): string[] {
  const list = value === undefined ? ['HS256'] : value
  if (!Array.isArray(list) || list.length === 0 || list.some((alg) => typeof alg !== 'string')) fail('algorithms must be a non-empty array of algorithm names')
  for (const alg of list as string[]) {
    if (!HMAC_ALGORITHMS.has(alg)) {
      fail(`algorithms must hold only HS256, HS384 or HS512 when ${secret.name} is set, not "${alg}": an HMAC verifier never accepts another kind of token (remove ${secret.name}, or the other algorithms)`)
    }
    const needed = HMAC_ALGORITHMS.get(alg) as number
    if (secret.bytes.length < needed) {
      fail(`${secret.name} is ${secret.bytes.length} bytes: ${alg} needs a secret of at least ${needed} bytes (its hash length, RFC 7518 §3.2)`)
    }
  }
  return [...new Set(list as string[])]
}

/** The secret, imported once per algorithm: the only keys of an HMAC verifier, for every issuer entry. */
export class SecretKeys implements VerificationKeys, KeySource {
  readonly issuer: string
  readonly version = 0
  readonly fresh = true
  readonly #keys: ReadonlyMap<string, CryptoKey>

  private constructor (issuer: string, keys: ReadonlyMap<string, CryptoKey>) {
    this.issuer = issuer
    this.#keys = keys
  }

  static async create (secret: Uint8Array, issuer: string, algorithms: readonly string[]): Promise<SecretKeys> {
    const keys = new Map<string, CryptoKey>()
    for (const alg of algorithms) {
      const hash = `SHA-${alg.slice(2)}`
      keys.set(alg, await webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash }, false, ['verify']) as CryptoKey)
    }
    return new SecretKeys(issuer, keys)
  }

  keysFor (): VerificationKeys {
    return this
  }

  /** One key per algorithm: the token's `kid`, if any, names nothing (there is one secret). */
  keyForAlg (alg: string): CryptoKey | undefined {
    return this.#keys.get(alg)
  }

  async getKey (header: JWSHeaderParameters): Promise<CryptoKey> {
    const key = this.#keys.get(header.alg as string)
    if (key === undefined) throw new joseErrors.JWKSNoMatchingKey()
    return key
  }
}
