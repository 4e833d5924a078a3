/**
 * Hand-made compact JWS for attacks jose refuses to produce (unknown `crit`, HMAC with a public
 * key, `alg: none`). Real signatures over real bytes: WebCrypto and node:crypto, no mocks.
 */
import { createHmac, webcrypto } from 'node:crypto'
import type { CryptoKey } from 'jose'

export function b64url (input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url')
}

export function segment (value: unknown): string {
  return b64url(JSON.stringify(value))
}

type SignAlgorithm = webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams

const SUBTLE: Record<string, SignAlgorithm> = {
  RS256: 'RSASSA-PKCS1-v1_5',
  ES256: { name: 'ECDSA', hash: 'SHA-256' }
}

/** Signs `header.payload` with a private CryptoKey, whatever the header says. */
export async function signRaw (header: Record<string, unknown>, payload: Record<string, unknown>, key: CryptoKey, alg = 'RS256'): Promise<string> {
  const input = `${segment(header)}.${segment(payload)}`
  const signature = await webcrypto.subtle.sign(SUBTLE[alg] as SignAlgorithm, key as webcrypto.CryptoKey, new TextEncoder().encode(input))
  return `${input}.${b64url(new Uint8Array(signature))}`
}

/** HS256 over `header.payload` with `secret` as the HMAC key (the key-confusion attack). */
export function signHmac (header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${segment(header)}.${segment(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** Standard claims for a token the test issuer would accept. */
export function claimsFor (issuer: string, audience: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { iss: issuer, aud: audience, sub: 'test-user', iat: now, exp: now + 3600, ...extra }
}
