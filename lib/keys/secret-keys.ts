/**
 * HMAC verification (SPEC §9): an Auth0 API set to HS256 signs its access tokens with the API's
 * signing secret, used as-is (a string's UTF-8 bytes, or the bytes given). A verifier with a
 * secret is a kind of its own: HMAC algorithms only, no discovery, no JWKS, no other key. Mixing
 * a shared secret with public keys is how the RS256 → HS256 key-confusion forgeries happened
 * (CVE-2015-9235, CVE-2022-23541), so every mix is a start-up error naming the options.
 * The option is resolved in lib/config/secret.ts. The secret is imported once per allowed
 * algorithm as a non-extractable WebCrypto key: jose and the fast path (lib/jwt/fast-verify.ts)
 * use it as they use a JWKS key; the MAC comparison is WebCrypto's (jose) or node:crypto's
 * `timingSafeEqual` (fast path), never ours.
 */
import { webcrypto } from 'node:crypto'
import { errors as joseErrors, type CryptoKey, type JWSHeaderParameters } from 'jose'
import type { KeySource, VerificationKeys } from './key-source.js'

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

  // Never called: `keyForAlg` serves every allowed algorithm, so the verifier never selects (nor
  // judges) a secret key through `getKey`, and the secret itself was checked at start-up.
  /* c8 ignore next */
  reportUnusable (): void {}

  async getKey (header: JWSHeaderParameters): Promise<CryptoKey> {
    const key = this.#keys.get(header.alg as string)
    if (key === undefined) throw new joseErrors.JWKSNoMatchingKey()
    return key
  }
}
