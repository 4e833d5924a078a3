/**
 * The signature fast path. jose 6 verifies through WebCrypto: asynchronous, a thread-pool round
 * trip per token. `node:crypto`'s synchronous `verify` on a `KeyObject` checks the same signature
 * with the same OpenSSL code in a fraction of the time. Everything else stays jose's:
 * - keys are selected and imported by jose (`createLocalJWKSet`), or imported once from an HMAC
 *   secret (lib/keys/secret-keys.ts); a CryptoKey is turned
 *   into a `KeyObject` once, after the checks jose makes on it (type, algorithm, hash, curve,
 *   usages, RSA modulus ≥ 2048 bits), and only for the algorithm it was imported for;
 * - only the plain shape takes the fast path: a strictly UTF-8 JSON header without `crit`, an
 *   allowed algorithm, a JSON-object payload whose registered claims plainly pass. Anything else
 *   is handed to jose (`undefined` → the caller runs `jwtVerify`), and once the signature is good
 *   a claim failure is reported by jose's own claim validation (`UnsecuredJWT.decode`), so every
 *   rejection but a bad signature carries jose's own error.
 * test/perf/differential.test.ts runs every token of the suite through both and requires the
 * same verdicts. No cryptography is implemented here.
 */
import { isUtf8 } from 'node:buffer'
import { constants, createHmac, KeyObject, timingSafeEqual, verify, type VerifyKeyObjectInput } from 'node:crypto'
import { errors as joseErrors, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose'

/** The jose `jwtVerify` options the fast path honours (the same object is given to jose). */
export interface FastVerifyOptions {
  issuer?: string
  audience?: string[]
  algorithms: string[]
  clockTolerance?: number
  requiredClaims: string[]
}

interface AlgorithmSpec {
  /** What jose requires of the CryptoKey (`checkCryptoKey` in jose's lib/key.js). */
  name: string
  hash?: string
  namedCurve?: string
  minRsaBits?: number
  /** `crypto.verify` arguments. */
  digest: string | null
  padding?: number
  saltLength?: number
  dsaEncoding?: 'ieee-p1363'
  /** An HMAC: recompute and compare in constant time (`timingSafeEqual`), as WebCrypto's verify does for jose. */
  hmac?: true
}

const rsa = (bits: number): AlgorithmSpec => ({ name: 'RSASSA-PKCS1-v1_5', hash: `SHA-${bits}`, minRsaBits: 2048, digest: `sha${bits}` })
// RFC 7518 §3.5: the salt is as long as the hash; jose asks WebCrypto for exactly that length.
const pss = (bits: number): AlgorithmSpec => ({
  name: 'RSA-PSS', hash: `SHA-${bits}`, minRsaBits: 2048, digest: `sha${bits}`, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8
})
const ecdsa = (curve: string, bits: number): AlgorithmSpec => ({ name: 'ECDSA', namedCurve: curve, digest: `sha${bits}`, dsaEncoding: 'ieee-p1363' })
const ed25519: AlgorithmSpec = { name: 'Ed25519', digest: null }
const hmac = (bits: number): AlgorithmSpec => ({ name: 'HMAC', hash: `SHA-${bits}`, digest: `sha${bits}`, hmac: true })

const ALGORITHMS = new Map<string, AlgorithmSpec>([
  ['RS256', rsa(256)], ['RS384', rsa(384)], ['RS512', rsa(512)],
  ['PS256', pss(256)], ['PS384', pss(384)], ['PS512', pss(512)],
  ['ES256', ecdsa('P-256', 256)], ['ES384', ecdsa('P-384', 384)], ['ES512', ecdsa('P-521', 512)],
  ['EdDSA', ed25519], ['Ed25519', ed25519],
  ['HS256', hmac(256)], ['HS384', hmac(384)], ['HS512', hmac(512)]
])

/** A CryptoKey made ready for `crypto.verify` under one algorithm. */
interface PreparedKey {
  digest: string | null
  key: KeyObject | VerifyKeyObjectInput
  hmac: boolean
}

// Per CryptoKey (jose imports one per JWK and algorithm, and drops them with the key set) and
// algorithm; `null` marks a key jose would refuse, so jose reports it.
const prepared = new WeakMap<CryptoKey, Map<string, PreparedKey | null>>()

function acceptable (key: CryptoKey, spec: AlgorithmSpec): boolean {
  const algorithm = key.algorithm as { name: string, hash?: { name: string }, namedCurve?: string, modulusLength?: number }
  return key.type === (spec.hmac === true ? 'secret' : 'public') &&
    algorithm.name === spec.name &&
    (spec.hash === undefined || algorithm.hash?.name === spec.hash) &&
    (spec.namedCurve === undefined || algorithm.namedCurve === spec.namedCurve) &&
    key.usages.includes('verify') &&
    (spec.minRsaBits === undefined || (typeof algorithm.modulusLength === 'number' && algorithm.modulusLength >= spec.minRsaBits))
}

function prepare (key: CryptoKey, alg: string, spec: AlgorithmSpec): PreparedKey | null {
  let byAlg = prepared.get(key)
  if (byAlg === undefined) prepared.set(key, byAlg = new Map())
  let entry = byAlg.get(alg)
  if (entry === undefined) {
    if (acceptable(key, spec)) {
      const keyObject = KeyObject.from(key)
      entry = {
        digest: spec.digest,
        hmac: spec.hmac === true,
        key: spec.padding !== undefined
          ? { key: keyObject, padding: spec.padding, saltLength: spec.saltLength as number }
          : spec.dsaEncoding !== undefined ? { key: keyObject, dsaEncoding: spec.dsaEncoding } : keyObject
      }
    } else {
      entry = null
    }
    byAlg.set(alg, entry)
  }
  return entry
}

/**
 * Header and payload of this very token, decoded as `parseObject` does (strict UTF-8, no BOM,
 * JSON objects): `decodeCompactJws` has done that work already, so it is not done twice.
 */
export interface StrictlyDecoded {
  header: Record<string, unknown>
  payload: Record<string, unknown>
}

/** Strict like jose (`TextDecoder` with `fatal`): invalid UTF-8 or a BOM never parse here. */
function parseObject (segment: string): Record<string, unknown> | undefined {
  const bytes = Buffer.from(segment, 'base64url')
  if (!isUtf8(bytes)) return undefined
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
}

/** jose's `validateClaimsSet` would accept these claims (a strict subset of what it accepts). */
function plainlyValid (claims: Record<string, unknown>, options: FastVerifyOptions): boolean {
  for (const claim of options.requiredClaims) if (!Object.hasOwn(claims, claim)) return false
  const { iss, aud, iat, nbf, exp } = claims
  const { issuer, audience } = options
  if (issuer !== undefined && (typeof iss !== 'string' || iss !== issuer)) return false
  if (audience !== undefined) {
    if (typeof aud === 'string') {
      if (!audience.includes(aud)) return false
    } else if (!Array.isArray(aud) || !audience.some((a) => aud.includes(a))) {
      return false
    }
  }
  const now = Math.floor(Date.now() / 1000)
  const tolerance = options.clockTolerance ?? 0
  if (iat !== undefined && typeof iat !== 'number') return false
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + tolerance)) return false
  if (exp !== undefined && (typeof exp !== 'number' || exp <= now - tolerance)) return false
  return true
}

/**
 * jose's error for a bad signature, made once: it carries nothing of the token (jose's fixed
 * message and code), and building one per refusal (jose's constructor captures a stack) cost
 * more than the rest of the refusal. Frozen, as every refusal shares it.
 */
const SIGNATURE_FAILED: joseErrors.JWSSignatureVerificationFailed = (() => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return Object.freeze(new joseErrors.JWSSignatureVerificationFailed())
  } finally {
    Error.stackTraceLimit = limit
  }
})()
const signatureFailed = (): joseErrors.JWSSignatureVerificationFailed => SIGNATURE_FAILED

// {"alg":"none"}: lets jose's claim validation (`UnsecuredJWT.decode`) judge a payload whose
// signature was verified here.
const NONE_HEADER = 'eyJhbGciOiJub25lIn0'

/**
 * Verifies a JWT the way jose's `jwtVerify(token, key, options)` does, synchronously.
 * Returns the payload, throws jose's error, or returns `undefined` when the token is not of the
 * plain shape: then the caller must ask `jwtVerify`. The token must be three segments of
 * base64url characters (`decodeCompactJws` and `decodeProof` check that). `decoded`, when given,
 * must be `decodeCompactJws`'s reading of `token`.
 */
export function verifyJwtFast (token: string, key: CryptoKey, options: FastVerifyOptions, decoded?: StrictlyDecoded): JWTPayload | undefined {
  const result = checkJwtFast(token, key, options, decoded)
  if (result instanceof joseErrors.JWSSignatureVerificationFailed) throw result
  return result
}

/**
 * `verifyJwtFast` that returns the error of a bad signature instead of throwing it: in a server
 * a `throw` measured 2–3 µs (even one caught two frames up), more than the rest of a refusal.
 * Claim failures are still thrown, by jose.
 */
export function checkJwtFast (token: string, key: CryptoKey, options: FastVerifyOptions, decoded?: StrictlyDecoded): JWTPayload | joseErrors.JWSSignatureVerificationFailed | undefined {
  const dot1 = token.indexOf('.')
  const dot2 = token.indexOf('.', dot1 + 1)
  // A segment of 1 mod 4 characters is not base64url: Buffer would drop a character, jose throws.
  if (dot1 % 4 === 1 || (dot2 - dot1 - 1) % 4 === 1 || (token.length - dot2 - 1) % 4 === 1) return undefined
  const header = decoded !== undefined ? decoded.header : parseObject(token.slice(0, dot1))
  if (header === undefined || header.crit !== undefined) return undefined
  const alg = header.alg
  if (typeof alg !== 'string' || !options.algorithms.includes(alg)) return undefined
  const spec = ALGORITHMS.get(alg)
  if (spec === undefined) return undefined
  const ready = prepare(key, alg, spec)
  if (ready === null) return undefined

  // `verify` answers false for any bad signature (wrong length or encoding included); it would
  // throw only for a key it cannot use, which `prepare` excludes, and a throw fails closed.
  const signingInput = Buffer.from(token.slice(0, dot2), 'latin1')
  const signature = Buffer.from(token.slice(dot2 + 1), 'base64url')
  if (ready.hmac) {
    // The MAC's length is public (the hash's); only its bytes are compared in constant time.
    const mac = createHmac(ready.digest as string, ready.key as KeyObject).update(signingInput).digest()
    if (signature.length !== mac.length || !timingSafeEqual(signature, mac)) return signatureFailed()
  } else if (!verify(ready.digest, signingInput, ready.key, signature)) {
    return signatureFailed()
  }

  const encodedPayload = token.slice(dot1 + 1, dot2)
  const claims = decoded !== undefined ? decoded.payload : parseObject(encodedPayload)
  if (claims !== undefined && plainlyValid(claims, options)) return claims
  return UnsecuredJWT.decode(`${NONE_HEADER}.${encodedPayload}.`, options).payload
}
