/**
 * The `decryption` option (SPEC §9): private keys for encrypted (JWE) access tokens, and the
 * algorithm allowlists. Validated and turned into `KeyObject`s once, at start-up; jose derives
 * the WebCrypto key per algorithm from a `KeyObject` and keeps it.
 */
import { createPrivateKey, KeyObject, webcrypto, type JsonWebKey } from 'node:crypto'
import type { CryptoKey, JWK } from 'jose'

const PREFIX = 'fastify-auth0-api: '

/** Key management algorithms: RSAES-OAEP only (what Auth0 offers). `RSA1_5`, `dir`, `*KW`, `PBES2*`, `ECDH-ES*` never. */
export const KEY_MANAGEMENT_ALGORITHMS = ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'] as const
/** Content encryption algorithms jose supports: AES-GCM and AES-CBC with HMAC-SHA2. */
export const CONTENT_ENCRYPTION_ALGORITHMS = ['A256GCM', 'A192GCM', 'A128GCM', 'A256CBC-HS512', 'A192CBC-HS384', 'A128CBC-HS256'] as const

export interface DecryptionKey {
  /** RSA private key (≥ 2048 bits): PEM (PKCS#8 or PKCS#1), JWK, `KeyObject` or `CryptoKey`. */
  privateKey: string | JWK | KeyObject | CryptoKey
  /** The `kid` the issuer puts in the JWE header; a token naming another `kid` is refused. */
  kid?: string
}

export interface DecryptionOptions {
  /** One or more keys; several during a rotation, told apart by `kid`. */
  keys: DecryptionKey[]
  /** Key management algorithms accepted. Default `['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512']`. */
  algorithms?: string[]
  /** Content encryption algorithms accepted. Default `['A256GCM']` (Auth0's). */
  encryption?: string[]
  /** Refuse access tokens that are not encrypted (RFC 9068 §4). Default `false`. */
  required?: boolean
}

export interface ResolvedKey {
  key: KeyObject
  kid: string | undefined
  /** Length of an RSAES-OAEP `encrypted_key` for this key, in bytes (the modulus length). */
  encryptedKeyLength: number
}

export interface ResolvedDecryption {
  keys: readonly ResolvedKey[]
  algorithms: readonly string[]
  encryption: readonly string[]
  required: boolean
}

const KNOWN = new Set(['keys', 'algorithms', 'encryption', 'required'])

function fail (message: string): never {
  throw new Error(PREFIX + message)
}

function privateKey (value: unknown, name: string): KeyObject {
  let key: KeyObject
  try {
    if (value instanceof KeyObject) key = value
    // jose's own test for a CryptoKey; KeyObject.from throws for anything that only pretends.
    else if ((value as { [Symbol.toStringTag]?: unknown } | null)?.[Symbol.toStringTag] === 'CryptoKey') key = KeyObject.from(value as webcrypto.CryptoKey)
    else if (typeof value === 'string') key = createPrivateKey(value)
    else if (typeof value === 'object' && value !== null) key = createPrivateKey({ key: value as JsonWebKey, format: 'jwk' })
    else throw new TypeError('not a key')
  } catch {
    fail(`${name} must be an RSA private key: a PEM string, a JWK, a KeyObject or a CryptoKey`)
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') fail(`${name} must be an RSA private key (got a ${key.type} ${key.asymmetricKeyType ?? 'secret'} key)`)
  const bits = key.asymmetricKeyDetails?.modulusLength as number
  if (bits < 2048) fail(`${name} is a ${bits}-bit RSA key: at least 2048 bits are required`)
  return key
}

function allowlist (value: unknown, name: string, supported: readonly string[], def: readonly string[]): readonly string[] {
  if (value === undefined) return def
  if (!Array.isArray(value) || value.length === 0) fail(`${name} must be a non-empty array of algorithm names`)
  for (const alg of value) {
    if (typeof alg !== 'string' || !supported.includes(alg)) {
      fail(`${name} contains unsupported algorithm ${JSON.stringify(alg)} (supported: ${supported.join(', ')})`)
    }
  }
  return [...new Set(value as string[])]
}

export function resolveDecryption (options: unknown): ResolvedDecryption {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('decryption must be { keys: [{ privateKey, kid? }], algorithms?, encryption?, required? }')
  const spec = options as Record<string, unknown>
  for (const name of Object.keys(spec)) if (!KNOWN.has(name)) fail(`decryption.${name} is not an option (known: ${[...KNOWN].join(', ')})`)
  if (!Array.isArray(spec.keys) || spec.keys.length === 0) fail('decryption.keys must be a non-empty array of { privateKey, kid? }')
  const kids = new Set<string | undefined>()
  const keys = spec.keys.map((entry: unknown, i): ResolvedKey => {
    const name = `decryption.keys[${i}]`
    if (typeof entry !== 'object' || entry === null || !('privateKey' in entry)) fail(`${name} must be { privateKey, kid? }`)
    const { privateKey: value, kid, ...rest } = entry as { privateKey: unknown, kid?: unknown }
    for (const other of Object.keys(rest)) fail(`${name}.${other} is not an option (known: privateKey, kid)`)
    if (kid !== undefined && (typeof kid !== 'string' || kid === '')) fail(`${name}.kid must be a non-empty string`)
    if (kids.has(kid)) fail(kid === undefined ? `${name}: only one key may go without a kid` : `${name}.kid "${kid}" is used twice`)
    kids.add(kid)
    const key = privateKey(value, `${name}.privateKey`)
    return { key, kid, encryptedKeyLength: (key.asymmetricKeyDetails?.modulusLength as number) / 8 }
  })
  if (spec.required !== undefined && typeof spec.required !== 'boolean') fail('decryption.required must be true or false')
  return {
    keys,
    algorithms: allowlist(spec.algorithms, 'decryption.algorithms', KEY_MANAGEMENT_ALGORITHMS, KEY_MANAGEMENT_ALGORITHMS),
    encryption: allowlist(spec.encryption, 'decryption.encryption', CONTENT_ENCRYPTION_ALGORITHMS, ['A256GCM']),
    required: spec.required === true
  }
}
