/**
 * What the token verifier needs from a source of verification keys: the issuer's JWKS
 * (`IssuerRegistry` → `IssuerKeys`), or an HMAC secret (`SecretKeys`). One interface, so the
 * signature fast path and the verified-token cache serve both the same way.
 */
import type { CryptoKey, JWSHeaderParameters } from 'jose'
import type { ResolvedIssuer } from '../config/options.js'

export interface VerificationKeys {
  /** The issuer tokens must name exactly. */
  readonly issuer: string
  /** Changes whenever the keys are replaced (verified-token cache entries are bound to it). */
  readonly version: number
  /** Keys usable now without a fetch. */
  readonly fresh: boolean
  /** The key that verifies a token with this header (jose's JWKS errors when none). */
  getKey (header: JWSHeaderParameters): Promise<CryptoKey>
  /**
   * The one key for `alg` when keys are not told apart by `kid` (an HMAC secret): no per-kid
   * bookkeeping, so an attacker-chosen `kid` costs nothing. Absent for a JWKS.
   */
  keyForAlg?: (alg: string) => CryptoKey | undefined
  /** A key `getKey` gave cannot verify (`key_unusable`): warned once per key. */
  reportUnusable (kid: string | undefined, alg: string, reason: string): void
}

export interface KeySource {
  keysFor (entry: ResolvedIssuer): VerificationKeys
}
