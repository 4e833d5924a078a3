/**
 * A real OpenID Connect issuer on 127.0.0.1 for tests and demos: it serves discovery and a JWKS
 * over HTTP and signs tokens with real keys. Nothing is mocked: the plugin talks HTTP to it
 * exactly as it would to a tenant.
 */
import { randomBytes, webcrypto } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { encryptToken, type EncryptOptions } from './encryption.js'

/** How an endpoint misbehaves while an outage is simulated. */
export type OutageMode = 'status-503' | 'status-404' | 'bad-json' | 'hang' | 'reset'

export interface TestIssuerOptions {
  /**
   * Algorithm of the signing keys. Default `'RS256'`. `'HS256'`, `'HS384'` or `'HS512'` make an
   * HMAC issuer (an Auth0 API set to HS256): tokens are signed with `secret`, the JWKS is empty.
   */
  alg?: string
  /** The signing secret of an HMAC issuer. Default: 64 random bytes, base64url (86 characters). */
  secret?: string
  /** Default `aud` of minted tokens. Default `'https://api.example.com/'`. */
  audience?: string | string[]
  /** Port to listen on (127.0.0.1). Default: a free port. */
  port?: number
}

export interface TokenOptions {
  /** Extra or replaced protected header parameters (`alg`, `kid`, `typ`, `crit`, `jku` …). */
  header?: Record<string, unknown>
  /** Sign with this private key instead of the issuer's current one (a foreign key). */
  signingKey?: CryptoKey
  /** Lifetime in seconds from now. Default 3600. */
  expiresIn?: number
  /** Binds the token to this DPoP key: `cnf: { jkt }` (unless `claims` sets `cnf` itself). */
  dpopKey?: { jkt: string }
  /** Encrypts the signed token for an API (JWE compact, RSA-OAEP-256 + A256GCM by default). */
  encrypt?: EncryptOptions
}

export interface SigningKey {
  kid: string
  alg: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export interface TestIssuer {
  /** `http://127.0.0.1:<port>/`: the issuer identifier, trailing slash included like Auth0's. */
  readonly issuerBaseURL: string
  /** Same as `issuerBaseURL`: the value of `iss` in minted tokens. */
  readonly issuer: string
  readonly jwksUri: string
  /** The signing secret of an HMAC issuer (`alg: 'HS…'`), as the plugin's `secret` takes it; else undefined. */
  readonly secret: string | undefined
  readonly discoveryUrl: string
  /** HTTP requests served so far, per endpoint. */
  readonly requests: { discovery: number, jwks: number }
  /** The signing key currently used by `token()`. */
  readonly currentKey: SigningKey
  /**
   * Mints a signed access token. Defaults: `iss`, `aud`, `sub: 'test-user'`, `iat`, `exp` (+1 h).
   * A claim given as `undefined` is left out (e.g. `{ exp: undefined }`).
   */
  token (claims?: Record<string, unknown>, options?: TokenOptions): Promise<string>
  /** Public JWKS as served right now. */
  jwks (): { keys: JWK[] }
  /** New signing key (a new secret for an HMAC issuer); the old one stays in the JWKS only when `keepPrevious` is true. */
  rotateKeys (options?: { keepPrevious?: boolean }): Promise<SigningKey>
  /** Generates a key pair that this issuer does not publish (for forged-token tests). */
  foreignKey (alg?: string): Promise<SigningKey>
  /**
   * Adds a JWK, as given, to the key set served (e.g. an RSA key under 2048 bits that jose refuses,
   * to see how an API copes with a tenant publishing it). Tokens naming its `kid` are signed by the
   * test itself; the next `rotateKeys()` drops it.
   */
  publishKey (jwk: JWK): void
  /** Members merged into (or, when `undefined`, removed from) the discovery document. */
  setDiscovery (patch: Record<string, unknown>): void
  /** `Cache-Control` sent with discovery and/or JWKS responses (`undefined`: none). */
  setCacheControl (values: { discovery?: string, jwks?: string }): void
  /** Makes discovery and/or JWKS misbehave until `restore()`. */
  outage (endpoints: { discovery?: OutageMode, jwks?: OutageMode }): void
  restore (): void
  close (): Promise<void>
}

let keyCounter = 0

const isHmac = (alg: string): boolean => /^HS(256|384|512)$/.test(alg)

/** An HMAC "key": the secret imported for signing; nothing is published. */
async function makeSecretKey (alg: string, secret: string): Promise<SigningKey> {
  const privateKey = await webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['sign']) as CryptoKey
  return { kid: `test-secret-${++keyCounter}`, alg, privateKey, publicJwk: {} }
}

const randomSecret = (): string => randomBytes(64).toString('base64url')

async function makeKey (alg: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const kid = `test-key-${++keyCounter}-${Date.now().toString(36)}`
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicJwk }
}

function sendJson (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra })
  res.end(text)
}

/** Starts a test issuer. Refuses to run when `NODE_ENV=production`. */
export async function createTestIssuer (options: TestIssuerOptions = {}): Promise<TestIssuer> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('fastify-auth0-api/testing refuses to run with NODE_ENV=production: it mints tokens for tests only')
  }
  const alg = options.alg ?? 'RS256'
  const audience = options.audience ?? 'https://api.example.com/'
  const hmac = isHmac(alg)
  let secret = hmac ? options.secret ?? randomSecret() : undefined
  let current = secret !== undefined ? await makeSecretKey(alg, secret) : await makeKey(alg)
  let published: JWK[] = hmac ? [] : [current.publicJwk]
  let discoveryPatch: Record<string, unknown> = {}
  let outages: { discovery?: OutageMode, jwks?: OutageMode } = {}
  let cacheControl: { discovery?: string, jwks?: string } = {}
  const cacheHeaders = (value: string | undefined): Record<string, string> => value === undefined ? {} : { 'cache-control': value }
  const requests = { discovery: 0, jwks: 0 }
  const hanging = new Set<ServerResponse>()
  let base = ''

  const misbehave = (mode: OutageMode, req: IncomingMessage, res: ServerResponse): void => {
    switch (mode) {
      case 'status-503': return sendJson(res, 503, { error: 'unavailable' })
      case 'status-404': return sendJson(res, 404, { error: 'not found' })
      case 'bad-json':
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"keys": [')
        return
      case 'reset':
        req.socket.destroy()
        return
      case 'hang':
        hanging.add(res)
    }
  }

  const server: Server = createServer((req, res) => {
    // An incoming request always has a url (only client-side messages lack one).
    const path = (req.url as string).split('?')[0]
    if (path === '/.well-known/openid-configuration') {
      requests.discovery++
      if (outages.discovery !== undefined) return misbehave(outages.discovery, req, res)
      const doc: Record<string, unknown> = {
        issuer: base,
        jwks_uri: `${base}.well-known/jwks.json`,
        token_endpoint: `${base}oauth/token`,
        id_token_signing_alg_values_supported: [alg],
        ...discoveryPatch
      }
      for (const [k, v] of Object.entries(doc)) if (v === undefined) delete doc[k]
      return sendJson(res, 200, doc, cacheHeaders(cacheControl.discovery))
    }
    if (path === '/.well-known/jwks.json') {
      requests.jwks++
      if (outages.jwks !== undefined) return misbehave(outages.jwks, req, res)
      return sendJson(res, 200, { keys: published }, cacheHeaders(cacheControl.jwks))
    }
    sendJson(res, 404, { error: 'not found' })
  })
  // Tests open and close many issuers; idle keep-alive sockets must not keep them alive.
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

  const releaseHanging = (): void => {
    for (const res of hanging) res.socket?.destroy()
    hanging.clear()
  }

  return {
    issuerBaseURL: base,
    issuer: base,
    jwksUri: `${base}.well-known/jwks.json`,
    get secret () { return secret },
    discoveryUrl: `${base}.well-known/openid-configuration`,
    requests,
    get currentKey () { return current },
    async token (claims = {}, tokenOptions = {}) {
      const now = Math.floor(Date.now() / 1000)
      const payload: Record<string, unknown> = {
        iss: base,
        aud: audience,
        sub: 'test-user',
        iat: now,
        exp: now + (tokenOptions.expiresIn ?? 3600),
        ...(tokenOptions.dpopKey !== undefined ? { cnf: { jkt: tokenOptions.dpopKey.jkt } } : {}),
        ...claims
      }
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k]
      // Auth0's HS256 tokens carry no `kid` (there is one secret).
      const header = { alg: current.alg, ...(hmac ? {} : { kid: current.kid }), typ: 'at+jwt', ...tokenOptions.header }
      const jws = await new SignJWT(payload as JWTPayload)
        .setProtectedHeader(header as { alg: string })
        .sign(tokenOptions.signingKey ?? current.privateKey)
      return tokenOptions.encrypt === undefined ? jws : await encryptToken(jws, tokenOptions.encrypt)
    },
    jwks: () => ({ keys: published.map((k) => ({ ...k })) }),
    async rotateKeys ({ keepPrevious = false } = {}) {
      if (hmac) {
        secret = randomSecret()
        current = await makeSecretKey(alg, secret)
        return current
      }
      current = await makeKey(alg)
      published = keepPrevious ? [current.publicJwk, ...published] : [current.publicJwk]
      return current
    },
    foreignKey: async (keyAlg = alg) => isHmac(keyAlg) ? await makeSecretKey(keyAlg, randomSecret()) : await makeKey(keyAlg),
    publishKey (jwk) { published = [...published, { ...jwk }] },
    setDiscovery (patch) { discoveryPatch = { ...discoveryPatch, ...patch } },
    setCacheControl (values) { cacheControl = { ...values } },
    outage (endpoints) { outages = { ...outages, ...endpoints } },
    restore () {
      outages = {}
      releaseHanging()
    },
    async close () {
      releaseHanging()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
