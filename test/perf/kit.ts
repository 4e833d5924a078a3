/**
 * Keys and hand-signed tokens for the fast-path tests: real key pairs, real signatures made with
 * node:crypto over exactly the bytes given (so tests can sign headers jose would never produce),
 * and verification keys obtained the way production obtains them (jose's `createLocalJWKSet`).
 */
import { constants, createHmac, createSecretKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { createLocalJWKSet, type CryptoKey, type JWK } from 'jose'
import { SecretKeys } from '../../lib/keys/secret-keys.js'

export const ISSUER = 'https://issuer.example.com/'
export const AUDIENCE = 'https://api.example.com/'

export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512'] as const
export type Alg = typeof ALGORITHMS[number]

export interface Pair {
  privateKey: KeyObject
  jwk: JWK
}

export function b64 (value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

const bits = (alg: string): number => Number(alg.slice(2))
const curves: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }

/** A key pair, or for HS* a 64-byte secret (`privateKey` the secret KeyObject, `jwk` its oct JWK). */
export function generatePair (alg: string, modulusLength = 2048): Pair {
  if (alg.startsWith('HS')) {
    const secret = createSecretKey(randomBytes(64))
    return { privateKey: secret, jwk: secret.export({ format: 'jwk' }) as JWK }
  }
  const { privateKey, publicKey } = alg.startsWith('RS') || alg.startsWith('PS')
    ? generateKeyPairSync('rsa', { modulusLength })
    : alg.startsWith('ES')
      ? generateKeyPairSync('ec', { namedCurve: curves[alg] as string })
      : generateKeyPairSync('ed25519')
  return { privateKey, jwk: publicKey.export({ format: 'jwk' }) as JWK }
}

export interface SignOptions {
  /** RSA-PSS salt length other than the hash length. */
  saltLength?: number
  /** ECDSA signature as DER instead of JWS's raw r || s. */
  der?: boolean
}

/** Signs `input` as `alg` would, with node:crypto. */
export function signInput (alg: string, key: KeyObject, input: string, options: SignOptions = {}): string {
  const data = Buffer.from(input)
  let signature: Buffer
  if (alg.startsWith('RS')) signature = sign(`sha${bits(alg)}`, data, key)
  else if (alg.startsWith('PS')) signature = sign(`sha${bits(alg)}`, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: options.saltLength ?? bits(alg) / 8 })
  else if (alg.startsWith('HS')) signature = createHmac(`sha${bits(alg)}`, key).update(data).digest()
  else if (alg.startsWith('ES')) signature = sign(`sha${bits(alg)}`, data, { key, dsaEncoding: options.der === true ? 'der' : 'ieee-p1363' })
  else signature = sign(null, data, key)
  return signature.toString('base64url')
}

/** Standard claims, valid for an hour. */
export function claims (extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 3600, ...extra }
}

/** `header.payload.signature` from segments as given (strings are encoded verbatim). */
export function rawToken (alg: string, key: KeyObject, header: string, payload: string, options: SignOptions = {}): string {
  return `${header}.${payload}.${signInput(alg, key, `${header}.${payload}`, options)}`
}

/** A signed token; header members and claims given as `undefined` are left out. */
export function token (alg: string, key: KeyObject, header: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, options: SignOptions = {}): string {
  return rawToken(alg, key, b64({ alg, kid: 'k', typ: 'at+jwt', ...header }), b64(claims(extra)), options)
}

/**
 * The CryptoKey jose's local JWKS selection gives for `alg` (how production gets its keys); for
 * HS*, the key an HMAC verifier imports from its secret (lib/keys/secret-keys.ts).
 */
export async function selectKey (jwk: JWK, alg: string, kid = 'k'): Promise<CryptoKey> {
  if (alg.startsWith('HS')) return (await SecretKeys.create(Buffer.from(jwk.k as string, 'base64url'), 'https://issuer.example.com/', [alg])).keyForAlg(alg) as CryptoKey
  return await createLocalJWKSet({ keys: [{ ...jwk, kid }] })({ alg, kid })
}
