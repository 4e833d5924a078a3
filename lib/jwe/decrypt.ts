/**
 * Encrypted access tokens (JWE compact, RFC 7516; SPEC §9). Decrypting is an RSA private-key
 * operation (about a millisecond), so everything that can refuse a token without it runs first,
 * on the unverified header: the compact grammar, `zip` and `crit` (refused), `alg` and `enc`
 * against their allowlists (which never hold `dir`, `RSA1_5`, `*KW`, `PBES2*` or `ECDH-ES*`),
 * `cty`, the key named by `kid`, and the `encrypted_key` length against that key's modulus. At
 * most one key is tried per token. Decryption itself is jose's `compactDecrypt`, pinned to the
 * header's `alg` and `enc`; any failure is one 401 (`decryption_failed`), whatever its cause, so
 * a reply tells nothing about the key or the padding. The plaintext must be a compact JWS: it is
 * then verified as any access token (encryption is not authentication: the public key is public).
 */
import { isUtf8 } from 'node:buffer'
import { compactDecrypt } from 'jose'
import { InvalidTokenError, type ChallengeScheme } from '../errors.js'
import { canonical, decodeJson, isObject } from '../jwt/compact.js'
import type { MaybePromise } from '../util/maybe-async.js'
import type { ResolvedDecryption, ResolvedKey } from './options.js'

const SEGMENT = /^[A-Za-z0-9_-]+$/

/** `cty` values of a nested JWT (RFC 7519 §5.2, RFC 9068), compared as RFC 7515 §4.1.10 says. */
const NESTED_JWT = new Set(['jwt', 'at+jwt', 'application/jwt', 'application/at+jwt'])

const MALFORMED = 'encrypted access token is not a well-formed compact JWE'

/** Whether the token has the five segments of a compact JWE (four dots), found without splitting. */
export function isCompactJwe (token: string): boolean {
  let dots = 0
  for (let i = token.indexOf('.'); i !== -1; i = token.indexOf('.', i + 1)) if (++dots > 4) return false
  return dots === 4
}

export class TokenDecryptor {
  readonly #config: ResolvedDecryption
  readonly #byKid = new Map<string, ResolvedKey>()
  /** The key for tokens without a `kid`: the one configured without one, else the only key. */
  readonly #default: ResolvedKey | undefined

  constructor (config: ResolvedDecryption) {
    this.#config = config
    for (const key of config.keys) if (key.kid !== undefined) this.#byKid.set(key.kid, key)
    this.#default = config.keys.find((key) => key.kid === undefined) ?? (config.keys.length === 1 ? config.keys[0] : undefined)
  }

  /**
   * The signed JWT inside an encrypted token (a promise: decryption is WebCrypto's), or the token
   * itself when it is not encrypted and encryption is not required. Header problems throw, a
   * failed decryption rejects, both with a 401 `InvalidTokenError`.
   */
  open (token: string, scheme: ChallengeScheme): MaybePromise<string> {
    if (!isCompactJwe(token)) {
      if (this.#config.required) throw new InvalidTokenError('jwe_required', 'access token must be encrypted (JWE)', { scheme })
      return token
    }
    const { key, alg, enc } = this.#check(token.split('.') as [string, string, string, string, string], scheme)
    return compactDecrypt(token, key.key, { keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: [enc] }).then(
      ({ plaintext }) => nestedJws(plaintext, scheme),
      // Whatever failed (padding, tag, a header jose reads otherwise): one answer, the cause kept for the log.
      (err: unknown) => { throw new InvalidTokenError('decryption_failed', 'access token could not be decrypted', { scheme, cause: err }) })
  }

  /** Every check that needs no private-key operation; the key to decrypt with. */
  #check (segments: [string, string, string, string, string], scheme: ChallengeScheme): { key: ResolvedKey, alg: string, enc: string } {
    const header = SEGMENT.test(segments[0]) ? decodeJson(segments[0]) : undefined
    if (!isObject(header)) return refuse('jwe_malformed', MALFORMED, scheme)
    const { alg, enc, zip, crit, cty, kid } = header
    if (zip !== undefined) refuse('jwe_header_unsupported', 'compressed (zip) encrypted tokens are not accepted', scheme)
    if (crit !== undefined) refuse('jwe_header_unsupported', 'encrypted token header has critical (crit) parameters', scheme)
    if (typeof alg !== 'string' || !this.#config.algorithms.includes(alg)) {
      // Auth0 encrypts with `dir` the token it issues when no audience was requested: not for an API.
      refuse('jwe_alg_not_allowed', alg === 'dir'
        ? 'token encrypted for another party (alg dir): did the client request an audience?'
        : 'token key management algorithm (alg) not allowed', scheme)
    }
    if (typeof enc !== 'string' || !this.#config.encryption.includes(enc)) refuse('jwe_enc_not_allowed', 'token content encryption algorithm (enc) not allowed', scheme)
    if (cty !== undefined && (typeof cty !== 'string' || !NESTED_JWT.has(cty.toLowerCase()))) {
      refuse('jwe_header_unsupported', 'encrypted token content type (cty) is not a JWT', scheme)
    }
    // Every segment non-empty (RSAES-OAEP has an encrypted key) and spelled one way only.
    if (!segments.every((segment) => SEGMENT.test(segment) && canonical(segment))) refuse('jwe_malformed', MALFORMED, scheme)
    if (kid !== undefined && typeof kid !== 'string') refuse('jwe_malformed', MALFORMED, scheme)
    const key = kid === undefined ? this.#default : this.#byKid.get(kid as string)
    if (key === undefined) return refuse('jwe_kid_unknown', 'no matching decryption key (kid)', scheme)
    // An RSAES-OAEP encrypted key is exactly as long as the modulus: anything else cannot decrypt.
    if (Buffer.byteLength(segments[1], 'base64url') !== key.encryptedKeyLength) refuse('decryption_failed', 'access token could not be decrypted', scheme)
    return { key, alg: alg as string, enc: enc as string }
  }
}

/** Refuses the token (a function of its own, so the docs test reads the reasons off the calls). */
function refuse (reason: string, description: string, scheme: ChallengeScheme): never {
  throw new InvalidTokenError(reason, description, { scheme })
}

/** The decrypted payload must be a compact JWS in strict UTF-8 (a nested JWE or bare claims are not signed). */
function nestedJws (plaintext: Uint8Array, scheme: ChallengeScheme): string {
  const text = isUtf8(plaintext) ? Buffer.from(plaintext).toString('utf8') : ''
  if (text.split('.', 4).length !== 3) throw new InvalidTokenError('jwe_payload_invalid', 'encrypted access token does not hold a signed JWT', { scheme })
  return text
}
