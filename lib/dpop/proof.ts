/**
 * The DPoP proof itself (RFC 9449 §4.2–4.3), in two phases:
 * - `decodeProof` + `checkProofClaims`: local and cheap (no crypto but one SHA-256), run before
 *   the access token is verified, so a malformed or mis-addressed proof costs nothing more;
 * - `verifyProofSignature`: jose checks the signature with the embedded public key, run once the
 *   token is known good.
 * Every failure is a 401 `invalid_dpop_proof` with a fixed description naming what is wrong.
 */
import { isUtf8 } from 'node:buffer'
import { EmbeddedJWK, errors as joseErrors, jwtVerify, type CryptoKey } from 'jose'
import { InvalidDpopProofError } from '../errors.js'
import { verifyJwtFast, type StrictlyDecoded } from '../jwt/fast-verify.js'
import { SegmentMemo } from '../jwt/segment-memo.js'
import { normalizeHttpUrl } from './htu.js'
import { proofKey } from './proof-key.js'
import { isPromise, type MaybePromise } from '../util/maybe-async.js'

/** Longest proof accepted (an RSA-4096 proof is about 2.5 KB), checked before decoding. */
export const MAX_PROOF_LENGTH = 8192
/** Longest `jti` accepted (RFC 9449 §11.1: servers should bound what they store). */
export const MAX_JTI_LENGTH = 256

// Members that only a private (or symmetric) JWK carries.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

// The key type (and curve) each proof algorithm verifies with.
const KEY_TYPES: Record<string, { kty: string, crv?: string }> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' }
}

const SEGMENT = /^[A-Za-z0-9_-]+$/

export interface DecodedProof {
  /** The compact JWS as received. */
  compact: string
  alg: string
  /** The embedded public key, checked for shape only (jose imports it in `verifyProofSignature`). */
  jwk: Record<string, unknown>
  payload: Record<string, unknown>
  /** Header and payload, when both were strict UTF-8: the fast path then reuses this reading. */
  strict?: StrictlyDecoded
}

/** What the request says the proof must match. */
export interface ProofExpectations {
  method: string
  /** Normalised request URL (see htu.ts). */
  url: string
  /** base64url(SHA-256(access token)). */
  ath: string
  /** Seconds since the epoch. */
  now: number
  iatOffset: number
  iatLeeway: number
}

// AuthError leaves out a cause that is undefined.
function fail (reason: string, description: string, cause?: unknown): never {
  throw new InvalidDpopProofError(reason, description, { cause })
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

interface Segment {
  value: unknown
  /** Valid UTF-8, as jose requires: only then may the fast path reuse `value`. */
  utf8: boolean
}

function decodeSegment (segment: string): Segment | undefined {
  // Unpadded base64url only; a length of 1 mod 4 cannot be base64url at all.
  if (!SEGMENT.test(segment) || segment.length % 4 === 1) return undefined
  const bytes = Buffer.from(segment, 'base64url')
  try {
    return { value: JSON.parse(bytes.toString('utf8')), utf8: isUtf8(bytes) }
  } catch {
    return undefined
  }
}

// A client signs every proof with one key: the same header, decoded once (and its key's
// thumbprint, lib/dpop/proof-key.ts, hashed once for that header object).
const proofHeaders = new SegmentMemo<Segment>(256, 2048)

function decodeHeader (segment: string): Segment | undefined {
  const known = proofHeaders.get(segment)
  if (known !== undefined) return known
  const decoded = decodeSegment(segment)
  return decoded !== undefined && isObject(decoded.value) ? proofHeaders.remember(segment, decoded) : decoded
}

/** Splits and decodes the proof and checks its header: `typ`, `alg`, `crit`, `jwk`. */
export function decodeProof (value: string, algorithms: readonly string[]): DecodedProof {
  if (value.length > MAX_PROOF_LENGTH) fail('proof_too_large', 'DPoP proof too large')
  const parts = value.split('.')
  const h = parts.length === 3 ? decodeHeader(parts[0] as string) : undefined
  const p = parts.length === 3 ? decodeSegment(parts[1] as string) : undefined
  const header = h?.value
  const payload = p?.value
  if (!isObject(header) || !isObject(payload) || !SEGMENT.test(parts[2] as string)) {
    fail('proof_malformed', 'DPoP proof is not a compact JWS with JSON header and payload')
  }
  if (header.typ !== 'dpop+jwt') fail('proof_typ_invalid', 'DPoP proof typ must be dpop+jwt')
  const alg = header.alg
  if (typeof alg !== 'string' || !algorithms.includes(alg)) fail('proof_alg_not_allowed', 'DPoP proof algorithm not allowed')
  if ('crit' in header) fail('proof_crit_unsupported', 'DPoP proof crit header not supported')
  const jwk = header.jwk
  if (!isObject(jwk)) fail('proof_jwk_missing', 'DPoP proof jwk header missing or not a JSON object')
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) fail('proof_jwk_private', 'DPoP proof jwk contains private key material')
  const type = KEY_TYPES[alg] as { kty: string, crv?: string }
  if (jwk.kty !== type.kty || jwk.crv !== type.crv || (jwk.alg !== undefined && jwk.alg !== alg)) {
    fail('proof_jwk_mismatch', 'DPoP proof jwk does not match the proof algorithm')
  }
  const proof: DecodedProof = { compact: value, alg, jwk, payload }
  if (h?.utf8 === true && p?.utf8 === true) proof.strict = { header, payload }
  return proof
}

/** `jti`, `htm`, `htu`, `iat`, `ath` against the request; `nonce` is left to nonce.ts. */
export function checkProofClaims (payload: Record<string, unknown>, expected: ProofExpectations): void {
  const { jti, htm, htu, iat, ath } = payload
  if (typeof jti !== 'string' || jti === '') fail('proof_jti_invalid', 'DPoP proof jti must be a non-empty string')
  if (jti.length > MAX_JTI_LENGTH) fail('proof_jti_too_long', 'DPoP proof jti too long')
  if (typeof htm !== 'string') fail('proof_htm_invalid', 'DPoP proof htm missing')
  // Methods are case-sensitive (RFC 9110 §9.1): `get` is not `GET`.
  if (htm !== expected.method) fail('proof_htm_mismatch', 'DPoP proof htm does not match the request method')
  if (typeof htu !== 'string') fail('proof_htu_invalid', 'DPoP proof htu missing')
  const url = normalizeHttpUrl(htu)
  if (url === undefined) fail('proof_htu_invalid', 'DPoP proof htu is not an absolute http(s) URL')
  if (url !== expected.url) fail('proof_htu_mismatch', 'DPoP proof htu does not match the request URL')
  if (typeof iat !== 'number' || !Number.isFinite(iat)) fail('proof_iat_invalid', 'DPoP proof iat missing or not a number')
  if (iat < expected.now - expected.iatOffset) fail('proof_iat_too_old', 'DPoP proof iat too old')
  if (iat > expected.now + expected.iatLeeway) fail('proof_iat_in_future', 'DPoP proof iat in the future')
  if (typeof ath !== 'string') fail('proof_ath_missing', 'DPoP proof ath missing')
  if (ath !== expected.ath) fail('proof_ath_mismatch', 'DPoP proof ath does not match the access token')
}

/**
 * Signature with the embedded key (jose also refuses a private `jwk` and a `use` other than `sig`).
 * The plain case takes the fast path (key imported once per JWK, node:crypto verify, jose's claim
 * rules: test/perf/differential.test.ts); anything else, and every doubt, is jose's `jwtVerify`.
 * `typ` is left out of the fast path's options: decodeProof already required it exactly.
 */
export function verifyProofSignature (proof: DecodedProof): MaybePromise<void> {
  // proofKey never throws (a failed import is a rejection). Synchronous when the key was imported
  // before (the usual case): no promise, no microtask turn.
  const key = proofKey(proof.jwk, proof.alg)
  return isPromise(key) ? key.then((imported) => verifyWith(proof, imported), proofError) : verifyWith(proof, key)
}

function verifyWith (proof: DecodedProof, key: CryptoKey | undefined): MaybePromise<void> {
  if (key !== undefined) {
    let payload: unknown
    try {
      payload = verifyJwtFast(proof.compact, key, { algorithms: [proof.alg], requiredClaims: [] }, proof.strict)
    } catch (err) {
      return proofError(err)
    }
    if (payload !== undefined) return undefined
  }
  return jwtVerify(proof.compact, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [proof.alg] }).then(() => undefined, proofError)
}

/** The refusal for what jose (or the fast path) said of the proof's signature. */
function proofError (err: unknown): never {
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) fail('proof_signature_invalid', 'DPoP proof signature verification failed', err)
  if (err instanceof joseErrors.JWTExpired) fail('proof_expired', 'DPoP proof expired (exp)', err)
  // An unusable key (bad point, wrong size, key_ops …) or a bad `nbf`: never a 500.
  fail('proof_invalid', 'DPoP proof could not be verified with its jwk', err)
}
