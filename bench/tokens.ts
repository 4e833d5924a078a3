/**
 * Everything the driver sends, minted before any measurement so that minting never competes
 * with autocannon for the driver's core. Access tokens come from the testing kit's issuer
 * (same header and claims as the test suite's); DPoP proofs are signed here with node:crypto
 * because a run needs tens of thousands of them.
 */
import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign, type webcrypto } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { TestIssuer, TokenOptions } from '../lib/testing/issuer.js'

export interface BasicTokens {
  valid: string
  /** Known `kid`, signed by a key the issuer does not publish. */
  badSignature: string
  wrongAudience: string
  wrongIssuer: string
  expired: string
}

/** `extra`: options for every token (e.g. `encrypt`, for a system that takes encrypted tokens). */
export async function mintBasics (issuer: TestIssuer, extra: TokenOptions = {}): Promise<BasicTokens> {
  const now = Math.floor(Date.now() / 1000)
  const foreign = await issuer.foreignKey()
  return {
    valid: await issuer.token({}, extra),
    badSignature: await issuer.token({}, { ...extra, signingKey: foreign.privateKey }),
    wrongAudience: await issuer.token({ aud: 'https://other-api.example.com/' }, extra),
    wrongIssuer: await issuer.token({ iss: 'https://evil.example.com/' }, extra),
    // Far past any clock tolerance a verifier may allow (the plugin caps it at 60 s).
    expired: await issuer.token({ iat: now - 7200, exp: now - 3600 }, extra)
  }
}

/** Minted in batches: unbounded Promise.all over 20 000 signatures would hold them all in flight. */
async function inBatches (n: number, mint: (i: number) => Promise<string>): Promise<string[]> {
  const out: string[] = []
  const batch = 256
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start)
    out.push(...await Promise.all(Array.from({ length: size }, async (_, k) => await mint(start + k))))
  }
  return out
}

/** Distinct valid tokens: only `jti` differs, so every token string is new to a verifier. */
export async function mintPool (issuer: TestIssuer, n: number, extra: TokenOptions = {}): Promise<string[]> {
  const tag = randomBytes(4).toString('hex')
  return await inBatches(n, async (i) => await issuer.token({ jti: `pool-${tag}-${i}` }, extra))
}

/** Correctly signed by a foreign key, each with a `kid` the issuer has never published. */
export async function mintUnknownKids (issuer: TestIssuer, n: number): Promise<string[]> {
  const foreign = await issuer.foreignKey()
  const tag = randomBytes(4).toString('hex')
  return await inBatches(n, async (i) => await issuer.token({}, {
    signingKey: foreign.privateKey,
    header: { kid: `unknown-${tag}-${i}` }
  }))
}

const b64u = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A DPoP client: one P-256 key, one access token bound to it, and proofs on demand. */
export class DpopClient {
  readonly token: string
  readonly jkt: string
  private readonly key: KeyObject
  private readonly header: string
  private readonly ath: string

  private constructor (token: string, jkt: string, key: KeyObject, jwk: JWK) {
    this.token = token
    this.jkt = jkt
    this.key = key
    this.header = b64u({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    this.ath = createHash('sha256').update(token).digest('base64url')
  }

  static async create (issuer: TestIssuer): Promise<DpopClient> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
    const jwk: JWK = { kty, crv, x, y }
    const jkt = await calculateJwkThumbprint(jwk, 'sha256')
    const token = await issuer.token({ cnf: { jkt } })
    return new DpopClient(token, jkt, privateKey, jwk)
  }

  /** One proof; `claims` replaces members, e.g. a wrong `ath` for a negative check. */
  proof (htu: string, jti: string, claims: Record<string, unknown> = {}): string {
    const payload = b64u({ jti, htm: 'GET', htu, iat: Math.floor(Date.now() / 1000), ath: this.ath, ...claims })
    const input = `${this.header}.${payload}`
    const signature = sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' })
    return `${input}.${signature.toString('base64url')}`
  }

  /** `n` proofs, each with its own `jti`: a verifier with a replay store accepts each one once. */
  proofs (htu: string, n: number): string[] {
    const tag = randomBytes(4).toString('hex')
    const out = new Array<string>(n)
    for (let i = 0; i < n; i++) out[i] = this.proof(htu, `${tag}-${i}`)
    return out
  }
}

/**
 * S8 needs a million distinct valid tokens, too many to hold or to mint through WebCrypto's
 * promise round trip: the same header and claims as `issuer.token()`, signed synchronously with
 * the issuer's own key through node:crypto, one batch at a time.
 */
export class TokenStream {
  private readonly key: KeyObject
  private readonly header: string
  private readonly tag = randomBytes(4).toString('hex')
  private readonly base: Record<string, unknown>

  constructor (issuer: TestIssuer, audience: string) {
    const current = issuer.currentKey
    this.key = KeyObject.from(current.privateKey as unknown as webcrypto.CryptoKey)
    this.header = b64u({ alg: current.alg, kid: current.kid, typ: 'at+jwt' })
    this.base = { iss: issuer.issuer, aud: audience, sub: 'test-user' }
  }

  mint (i: number): string {
    const now = Math.floor(Date.now() / 1000)
    const input = `${this.header}.${b64u({ ...this.base, iat: now, exp: now + 3600, jti: `mem-${this.tag}-${i}` })}`
    return `${input}.${sign('sha256', Buffer.from(input), this.key).toString('base64url')}`
  }
}
