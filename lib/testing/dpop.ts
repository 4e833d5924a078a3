/**
 * DPoP for tests: client key pairs and proofs, valid by default and bendable into every invalid
 * shape a test needs (`header` / `claims` replace or, with `undefined`, remove members).
 */
import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'

export interface DpopKey {
  alg: string
  privateKey: CryptoKey
  publicKey: CryptoKey
  /** Public JWK, as a proof embeds it. */
  publicJwk: JWK
  /** Private JWK (for tests that must show a private key is refused). */
  privateJwk: JWK
  /** RFC 7638 SHA-256 thumbprint: the `cnf.jkt` of tokens bound to this key. */
  jkt: string
}

export interface ProofOptions {
  key: DpopKey
  /** `htm`. Default `'GET'`. */
  method?: string
  /** `htu`; query and fragment are dropped, as a client does (RFC 9449 §4.2). */
  url: string
  /** Adds `ath` for this token. */
  accessToken?: string
  nonce?: string
  /** Seconds since the epoch. Default: now. */
  iat?: number
  /** Default: a random UUID. */
  jti?: string
  /** Protected header members to replace (`typ`, `alg`, `jwk` …) or, when `undefined`, remove. */
  header?: Record<string, unknown>
  /** Payload members to replace or, when `undefined`, remove. */
  claims?: Record<string, unknown>
}

function refuseProduction (): void {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('fastify-auth0-api/testing refuses to run with NODE_ENV=production: it mints credentials for tests only')
  }
}

/** A DPoP key pair (default ES256) with its public JWK and thumbprint. */
export async function dpopKey (alg = 'ES256'): Promise<DpopKey> {
  refuseProduction()
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  return { alg, privateKey, publicKey, publicJwk, privateJwk: await exportJWK(privateKey), jkt: await calculateJwkThumbprint(publicJwk) }
}

function withoutUndefined (record: Record<string, unknown>): Record<string, unknown> {
  for (const [name, value] of Object.entries(record)) if (value === undefined) delete record[name]
  return record
}

/** A signed DPoP proof JWT for one request. */
export async function proof (options: ProofOptions): Promise<string> {
  refuseProduction()
  const { key } = options
  const url = new URL(options.url)
  const payload = withoutUndefined({
    jti: options.jti ?? randomUUID(),
    htm: options.method ?? 'GET',
    htu: url.origin + url.pathname,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ath: options.accessToken === undefined ? undefined : createHash('sha256').update(options.accessToken).digest('base64url'),
    nonce: options.nonce,
    ...options.claims
  })
  const header = withoutUndefined({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header })
  return await new SignJWT(payload as JWTPayload).setProtectedHeader(header as { alg: string }).sign(key.privateKey)
}
