/**
 * Steps 3–6 of the pipeline (SPEC §3) for one access token: structure, issuer allowed, key,
 * signature, claims. Two caches make the hot path cheap without skipping a decision:
 * - the verification key per (key-set version, kid, alg) while the key set is fresh, so a request
 *   neither waits for jose's key selection nor imports a key;
 * - the verified-token cache (token-cache.ts): a token verified in full before is accepted from
 *   it only once this request's issuer policy, algorithm allowlist, key-set identity, version and
 *   freshness, and time checks pass; on any doubt the token is verified in full again, which
 *   gives the exact verdict.
 */
import { errors as joseErrors, type CryptoKey, type JWSHeaderParameters } from 'jose'
import type { ResolvedConfig, ResolvedIssuer } from '../config/options.js'
import type { AuthRequest } from '../http/auth-request.js'
import { AuthError, InvalidTokenError, type ChallengeScheme } from '../errors.js'
import { TokenDecryptor } from '../jwe/decrypt.js'
import type { KeySource, VerificationKeys } from '../keys/key-source.js'
import type { IssuerPolicy } from '../keys/issuer-policy.js'
import type { AccessTokenClaims, VerifyRequest } from '../types.js'
import { then, type MaybePromise } from '../util/maybe-async.js'
import { checkProfileClaims, checkTyp } from '../policies/profile.js'
import { verifyClaims } from './claims.js'
import { decodeCompactJws, type DecodedJws } from './compact.js'
import { deepFreeze, TokenCache, type CachedToken } from './token-cache.js'

interface KeySlot {
  version: number
  /**
   * `alg` → `kid` → the key jose selected; bounded by the key set (only selections that
   * succeeded). Two levels, not one joined string: no string is built and hashed per request.
   */
  keys: Map<string, Map<string | undefined, CryptoKey>>
}

const UNUSABLE_KEY = 'signing key unusable: the issuer published a key that cannot verify tokens'

/**
 * Why jose would refuse to verify with `key` (it throws a TypeError mid-verification), checked
 * once when the key is selected: a key of the issuer's set that cannot verify is the token's
 * problem (401), not the server's (500).
 */
export function unusableKey (key: CryptoKey): string | undefined {
  if (key.type !== 'public' || !key.usages.includes('verify')) return 'not a public verification key'
  // RFC 7518 §3.3 / §3.5: RS* and PS* keys of 2048 bits or more (jose enforces it).
  const { modulusLength } = key.algorithm as { modulusLength?: number }
  if (modulusLength !== undefined && modulusLength < 2048) return 'RSA key under 2048 bits'
  return undefined
}

export class TokenVerifier {
  readonly #config: ResolvedConfig
  readonly #registry: KeySource
  readonly #policy: IssuerPolicy
  readonly #cache: TokenCache | undefined
  readonly #slots = new WeakMap<VerificationKeys, KeySlot>()
  /** Encrypted tokens (lib/jwe/): only with the `decryption` option. */
  readonly #decryptor: TokenDecryptor | undefined

  constructor (config: ResolvedConfig, registry: KeySource, policy: IssuerPolicy) {
    this.#config = config
    this.#registry = registry
    this.#policy = policy
    this.#cache = config.tokenCache === false ? undefined : new TokenCache(config.tokenCache)
    this.#decryptor = config.decryption === undefined ? undefined : new TokenDecryptor(config.decryption)
  }

  /**
   * The token's claims, or the `AuthError` refusing it (returned for a bad signature or claim,
   * thrown for the other checks): synchronously when nothing has to be waited for (a static
   * issuer list, a known key, the fast path), else as a promise.
   */
  verify (token: string, request: AuthRequest, scheme: ChallengeScheme): MaybePromise<AccessTokenClaims | AuthError> {
    const cached = this.#cache?.get(token)
    if (cached === undefined) return this.#verify(token, request, scheme, undefined)
    // The cached `iss` is the one a full verification would decode: the same token string.
    return then(this.#policy.resolve(cached.claims.iss, request, scheme), (issuer) => {
      if (!this.#reusable(cached, issuer)) return this.#verify(token, request, scheme, issuer)
      request.tokenCacheHit = true
      return cached.claims
    })
  }

  #reusable (cached: CachedToken, issuer: ResolvedIssuer): boolean {
    if (!issuer.algorithms.includes(cached.alg)) return false
    const keys = this.#registry.keysFor(issuer)
    // Same keys object, fresh, and still the exact issuer a full verification would require.
    if (keys !== cached.keys || !keys.fresh || keys.issuer !== cached.claims.iss) return false
    // The time checks of a full verification: jose's `exp` and `nbf` on whole seconds, our `iat`.
    const { exp, nbf, iat } = cached.claims
    const now = Date.now() / 1000
    const seconds = Math.floor(now)
    const tolerance = this.#config.clockTolerance
    return exp > seconds - tolerance && (nbf === undefined || nbf <= seconds + tolerance) && iat <= now + tolerance
  }

  #verify (token: string, request: VerifyRequest, scheme: ChallengeScheme, resolved: ResolvedIssuer | undefined): MaybePromise<AccessTokenClaims | AuthError> {
    // 3. An encrypted token: header checks, then decryption; the signed JWT inside goes on as any
    // token, and its verdict is cached under the token as sent.
    if (this.#decryptor !== undefined) {
      const jws = this.#decryptor.open(token, scheme)
      if (jws !== token) return then(jws, (inner) => this.#verifyJws(inner, token, request, scheme, resolved))
    }
    return this.#verifyJws(token, token, request, scheme, resolved)
  }

  /** `jws` is the signed token: `token` itself, or what it decrypted to. */
  #verifyJws (jws: string, token: string, request: VerifyRequest, scheme: ChallengeScheme, resolved: ResolvedIssuer | undefined): MaybePromise<AccessTokenClaims | AuthError> {
    // 3. Token structure
    const decoded = decodeCompactJws(jws, scheme)
    // 4. Issuer allowed (no network for any other issuer)
    return then(resolved ?? this.#policy.resolve(decoded.payload.iss, request, scheme),
      (issuer) => this.#verifyFor(jws, token, decoded, issuer, scheme))
  }

  #verifyFor (jws: string, token: string, decoded: DecodedJws, issuer: ResolvedIssuer, scheme: ChallengeScheme): MaybePromise<AccessTokenClaims | AuthError> {
    // 4. Algorithm allowed, keys
    const { header } = decoded
    const alg = header.alg as string
    if (!issuer.algorithms.includes(alg)) {
      throw new InvalidTokenError('alg_not_allowed', 'token algorithm not allowed', { scheme })
    }
    // Explicit typing (RFC 8725 §3.11, RFC 9068 §4): as cheap as the `alg` allowlist, before any key.
    const { profile } = this.#config
    const typError = checkTyp(header.typ, profile, scheme)
    if (typError !== undefined) return typError
    const keys = this.#registry.keysFor(issuer)
    const version = keys.version
    // 5–6. Signature and claims
    const check = (key: CryptoKey): MaybePromise<AccessTokenClaims | AuthError> => then(verifyClaims(jws, key, {
      issuer: keys.issuer,
      audience: this.#config.audience,
      algorithms: issuer.algorithms,
      clockTolerance: this.#config.clockTolerance
    }, scheme, decoded), (payload) => {
      if (payload instanceof AuthError) return payload
      // The profile's claims: judged once per token, like the signature (the profile is fixed).
      const claimError = profile.rfc9068 || profile.requiredClaims.length > 0 ? checkProfileClaims(payload, profile, scheme) : undefined
      if (claimError !== undefined) return claimError
      const claims = deepFreeze(payload)
      this.#cache?.set(token, { claims, keys, version, alg })
      return claims
    })
    const known = keys.keyForAlg?.(alg) ?? this.#knownKey(keys, alg, header.kid)
    return known !== undefined ? check(known) : this.#selectKey(keys, header, scheme).then(check)
  }

  /** The key jose selected before for this alg and kid, from the current, fresh key set. */
  #knownKey (keys: VerificationKeys, alg: string, kid: unknown): CryptoKey | undefined {
    if (!keys.fresh || (kid !== undefined && typeof kid !== 'string')) return undefined
    const slot = this.#slots.get(keys)
    return slot !== undefined && slot.version === keys.version ? slot.keys.get(alg)?.get(kid as string | undefined) : undefined
  }

  async #selectKey (keys: VerificationKeys, header: Record<string, unknown>, scheme: ChallengeScheme): Promise<CryptoKey> {
    const version = keys.version
    let key: CryptoKey
    try {
      key = await keys.getKey(header as unknown as JWSHeaderParameters)
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey) throw new InvalidTokenError('kid_not_found', 'no matching signing key', { scheme, cause: err })
      if (err instanceof joseErrors.JWKSMultipleMatchingKeys) throw new InvalidTokenError('kid_ambiguous', 'signing key ambiguous: the token needs a kid', { scheme, cause: err })
      // A key of the set that WebCrypto cannot import (a point off its curve, a missing exponent …).
      if (err instanceof DOMException) {
        keys.reportUnusable(header.kid as string | undefined, header.alg as string, `key import failed: ${err.message}`)
        throw new InvalidTokenError('key_unusable', UNUSABLE_KEY, { scheme, cause: err })
      }
      throw err
    }
    const unusable = unusableKey(key)
    if (unusable !== undefined) {
      keys.reportUnusable(header.kid as string | undefined, header.alg as string, unusable)
      throw new InvalidTokenError('key_unusable', UNUSABLE_KEY, { scheme })
    }
    // jose matched a string or absent kid (any other kid matches no key and threw above).
    if (keys.version === version) {
      let slot = this.#slots.get(keys)
      if (slot === undefined || slot.version !== version) this.#slots.set(keys, slot = { version, keys: new Map() })
      const alg = header.alg as string
      let byKid = slot.keys.get(alg)
      if (byKid === undefined) slot.keys.set(alg, byKid = new Map())
      byKid.set(header.kid as string | undefined, key)
    }
    return key
  }
}
