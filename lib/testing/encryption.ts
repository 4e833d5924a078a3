/**
 * Encrypted access tokens for tests (JWE compact, as Auth0 issues them for an API with token
 * encryption on): an RSA key pair for the API, and `encryptToken` wrapping a signed token for it.
 * Tests only: `createTestIssuer` refuses NODE_ENV=production, and so does this module.
 */
import { createPublicKey, generateKeyPairSync, KeyObject, type JsonWebKey } from 'node:crypto'
import { CompactEncrypt, type CryptoKey, type JWK } from 'jose'

export interface EncryptOptions {
  /** The API's public key: PEM, JWK, `KeyObject` or `CryptoKey`. */
  publicKey: string | JWK | KeyObject | CryptoKey
  /** Key management algorithm. Default `'RSA-OAEP-256'`. */
  alg?: string
  /** Content encryption algorithm. Default `'A256GCM'`. */
  enc?: string
  /** `kid` in the JWE header (left out when not given). */
  kid?: string
  /** `cty`; default `'JWT'` (RFC 7519 §5.2: a nested JWT). `null` leaves it out. */
  cty?: string | null
  /** More protected header members. */
  header?: Record<string, unknown>
}

export interface DecryptionKeyPair {
  kid: string | undefined
  /** For the plugin's `decryption.keys[].privateKey`. */
  privateKey: KeyObject
  /** PKCS#8 PEM of the private key (what an environment variable would hold). */
  privateKeyPem: string
  /** What the issuer encrypts to (the PEM uploaded to Auth0). */
  publicKey: KeyObject
  publicKeyPem: string
}

function refuseProduction (): void {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('fastify-auth0-api/testing refuses to run with NODE_ENV=production: it mints tokens for tests only')
  }
}

/** A fresh RSA key pair (2048 bits unless asked) for an API receiving encrypted tokens. */
export function decryptionKeyPair (options: { kid?: string, modulusLength?: number } = {}): DecryptionKeyPair {
  refuseProduction()
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 })
  return {
    kid: options.kid,
    privateKey,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string
  }
}

function publicKeyObject (key: EncryptOptions['publicKey']): KeyObject | CryptoKey {
  if (typeof key === 'string') return createPublicKey(key)
  if (key instanceof KeyObject || !('kty' in key)) return key as KeyObject | CryptoKey
  return createPublicKey({ key: key as JsonWebKey, format: 'jwk' })
}

/** Encrypts a signed token (compact JWS) for the API: a compact JWE, as Auth0 sends it. */
export async function encryptToken (jws: string, options: EncryptOptions): Promise<string> {
  refuseProduction()
  const cty = options.cty === undefined ? 'JWT' : options.cty
  const header: Record<string, unknown> = {
    alg: options.alg ?? 'RSA-OAEP-256',
    enc: options.enc ?? 'A256GCM',
    ...(options.kid !== undefined ? { kid: options.kid } : {}),
    ...(cty !== null ? { cty } : {}),
    ...options.header
  }
  return await new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader(header as { alg: string, enc: string })
    .encrypt(publicKeyObject(options.publicKey))
}
