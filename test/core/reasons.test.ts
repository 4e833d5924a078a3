/**
 * Every failure `reason` the README's reasons table lists, produced by a real request: the real
 * test issuer (lib/testing) with real keys and signatures, real Fastify apps (inject, or a raw
 * socket where only one can send the bytes: two Host lines, HTTP/1.0 without Host, an
 * absolute-form target). For each reason the test asserts the status, the body's `error`, the
 * `reason` seen twice (the `fastify-auth0-api:auth` diagnostics channel and `onAuthError`), and
 * the `WWW-Authenticate` line through the grammar oracle (test/helpers/www-authenticate.ts):
 * which challenge carries the error, or the bare challenge, or none (5xx).
 *
 * The table is parsed from README.md, so a reason documented without a case here fails this test;
 * that every reason the code produces is in the README is test/docs/readme.test.ts's job.
 */
import dc from 'node:diagnostics_channel'
import { generateKeyPairSync, webcrypto } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import t from 'tap'
import type { CryptoKey, JWK } from 'jose'
import auth0Plugin, { type AuthError, type Auth0PluginOptions, type ReplayStore } from '../../lib/index.js'
import { createTestIssuer, decryptionKeyPair, dpopKey, proof, type DpopKey, type ProofOptions, type TestIssuer } from '../../lib/testing/index.js'
import { produceJwe } from '../fixtures/jwe-producer.js'
import { AUDIENCE } from '../helpers/app.js'
import { makeCertificate } from '../helpers/certificates.js'
import { expectGrammar, oracleEveryReply } from '../helpers/expect.js'
import { claimsFor, segment, signHmac, signRaw } from '../helpers/jws.js'
import { codeNames, root, section, tables } from '../helpers/markdown.js'
import { rawRequest } from '../dpop/raw-http.js'
import { readFileSync } from 'node:fs'

const HOST = 'api.example.com'
const ORIGIN = `http://${HOST}`

/** The reasons of the README's table under `## Errors`, as test/docs/readme.test.ts reads them. */
function documentedReasons (): string[] {
  const readme = readFileSync(new URL('README.md', root), 'utf8')
  const table = tables(section(readme, '## Errors')).find((tb) => tb.header[0] === 'reason')
  if (table === undefined) throw new Error('no reasons table under ## Errors')
  return table.rows.flatMap((row) => codeNames(row[0] ?? ''))
}

// ---------------------------------------------------------------------------------------------
// What the diagnostics channel and onAuthError saw (requests run one at a time).

const published: string[] = []
const onAuth = (message: unknown): void => { published.push(String((message as { reason?: string }).reason)) }
dc.subscribe('fastify-auth0-api:auth', onAuth)
t.teardown(() => { dc.unsubscribe('fastify-auth0-api:auth', onAuth) })
const hooked: string[] = []
const onAuthError = (error: AuthError): void => { hooked.push(error.reason) }

// ---------------------------------------------------------------------------------------------
// The apps. One issuer serves every setup that does not change it.

const issuer = await createTestIssuer()
t.teardown(async () => { await issuer.close() })
const alice = await makeCertificate('alice')
const bob = await makeCertificate('bob')
const CERTIFICATES: Record<string, string> = { alice: alice.cert, bob: bob.cert, unreadable: 'not a certificate' }
const key = await dpopKey()
const otherKey = await dpopKey()
const rsa = decryptionKeyPair()
const otherRsa = decryptionKeyPair()

/** The issuer each app was built on. */
const issuers = new Map<FastifyInstance, TestIssuer>()

async function app (options: Partial<Auth0PluginOptions>, routes: (app: FastifyInstance) => void = () => {}, server: { trustProxy?: boolean, issuer?: TestIssuer } = {}): Promise<FastifyInstance> {
  const iss = server.issuer ?? issuer
  const fastify = Fastify({ trustProxy: server.trustProxy ?? false })
  oracleEveryReply(fastify, t)
  await fastify.register(auth0Plugin, { issuerBaseURL: iss.issuerBaseURL, audience: AUDIENCE, env: {}, onAuthError, ...options })
  fastify.get('/private', { preHandler: fastify.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  routes(fastify)
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await fastify.close() })
  issuers.set(fastify, iss)
  return fastify
}

/** A replay store that cannot answer (a Redis down, say): the replay check fails closed. */
const brokenStore: ReplayStore = { checkAndRemember: async () => { throw new Error('store down') } }

const setups = {
  // issuerBaseURL without its trailing slash: both spellings pass the issuer allowlist, discovery
  // pins the one with the slash, so a token with the other one reaches jose's `iss` check.
  main: async () => await app({
    issuerBaseURL: issuer.issuerBaseURL.slice(0, -1),
    mtls: { certificate: (request: FastifyRequest) => CERTIFICATES[String(request.headers['x-test-certificate'])] ?? (request.headers['x-test-certificate'] === 'throw' ? thrower() : undefined) }
  }, (a) => {
    a.get('/messages', { preHandler: a.requireAuth('read:messages') }, async () => ({}))
    a.get('/required', { preHandler: a.requireAuth({ dpop: 'required' }) }, async () => ({}))
    a.get('/org-id', { preHandler: a.requireAuth({ organization: 'org_abc' }) }, async () => ({}))
    a.get('/org-name', { preHandler: a.requireAuth({ organization: 'acme' }) }, async () => ({}))
    a.get('/org-throws', { preHandler: a.requireAuth({ organization: () => { throw new Error('directory down') } }) }, async () => ({}))
    a.get('/acr', { preHandler: a.requireAuth({ acr: ['gold'] }) }, async () => ({}))
    a.get('/max-age', { preHandler: a.requireAuth({ maxAge: 60 }) }, async () => ({}))
    a.get('/check-refuses', { preHandler: a.requireAuth({ check: () => false }) }, async () => ({}))
    a.get('/check-throws', { preHandler: a.requireAuth({ check: () => { throw new Error('database down') } }) }, async () => ({}))
    a.get('/query', { preHandler: a.requireAuth({ tokenSources: ['header', 'query'] }) }, async () => ({}))
    // fastify.auth0.verify() inside a handler, its refusals answered by the plugin's error handler.
    a.get('/verify', { errorHandler: a.auth0.errorHandler }, async (request) => {
      const odd = request.headers['x-test-odd'] === 'yes'
      const headers = odd ? { authorization: 42 as unknown as string } : { authorization: request.headers.authorization, dpop: request.headers.dpop }
      await a.auth0.verify({ method: 'GET', url: String(request.headers['x-test-url']), headers })
      return {}
    })
    // A form parser that leaves the body as bytes: a form token cannot be read from it.
    void a.register(async (child) => {
      child.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
      child.post('/form', { preValidation: child.requireAuth({ tokenSources: ['body'] }) }, async () => ({}))
    })
  }, { trustProxy: true }),
  disabled: async () => await app({ dpop: { mode: 'disabled' } }),
  nonces: async () => await app({ dpop: { nonce: { secret: 'a shared secret of at least thirty-two bytes', windowSeconds: 300 } } }),
  replay: async () => await app({ dpop: { replayStore: brokenStore } }),
  profile: async () => await app({ profile: 'rfc9068', maxTokenAge: 600 }),
  jwe: async () => await app({ decryption: { keys: [{ privateKey: rsa.privateKey }], required: true } }),
  resolver: async () => await app({ issuerBaseURL: undefined, domains: () => { throw new Error('tenant lookup down') } }),
  // Issuers of their own: these setups change what the issuer serves.
  keys: async () => {
    const own = await createTestIssuer()
    t.teardown(async () => { await own.close() })
    await own.rotateKeys({ keepPrevious: true })
    own.publishKey(weak.jwk)
    return await app({}, () => {}, { issuer: own })
  },
  outage: async () => {
    const own = await createTestIssuer()
    t.teardown(async () => { await own.close() })
    own.outage({ discovery: 'status-503', jwks: 'status-503' })
    return await app({}, () => {}, { issuer: own })
  },
  mismatch: async () => {
    const own = await createTestIssuer()
    t.teardown(async () => { await own.close() })
    own.setDiscovery({ issuer: 'https://someone-else.example/' })
    return await app({}, () => {}, { issuer: own })
  }
} satisfies Record<string, () => Promise<FastifyInstance>>
type SetupName = keyof typeof setups

function thrower (): never { throw new Error('certificate store down') }

const built = new Map<SetupName, Promise<FastifyInstance>>()
async function setup (name: SetupName): Promise<FastifyInstance> {
  let made = built.get(name)
  if (made === undefined) built.set(name, made = setups[name]())
  return await made
}

/** An RSA key under 2048 bits, published by the `keys` issuer (RFC 7518 §3.3 forbids it). */
const weak = await (async () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'weak-1024', alg: 'RS256', use: 'sig' } as JWK
  const privateKey = await webcrypto.subtle.importKey('jwk', pair.privateKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign'])
  return { jwk, privateKey: privateKey as CryptoKey }
})()

// ---------------------------------------------------------------------------------------------
// Requests.

interface Reply { statusCode: number, headers: Record<string, unknown>, body: string }

const now = (): number => Math.floor(Date.now() / 1000)
const token = async (claims: Record<string, unknown> = {}, options: Parameters<TestIssuer['token']>[1] = {}): Promise<string> => await issuer.token(claims, options)
const bound = async (claims: Record<string, unknown> = {}, to: DpopKey = key): Promise<string> => await issuer.token(claims, { dpopKey: to })
const bearer = (value: string): Record<string, string> => ({ authorization: `Bearer ${value}` })

async function get (name: SetupName, url: string, headers: Record<string, string>, method: 'GET' | 'POST' = 'GET', payload?: string): Promise<Reply> {
  const res = await (await setup(name)).inject({ method, url, headers: { host: HOST, ...headers }, ...(payload !== undefined ? { payload } : {}) })
  return { statusCode: res.statusCode, headers: res.headers, body: res.body }
}

/** A raw HTTP/1.x exchange with the `main` app (request line and header lines as written). */
async function raw (requestLine: string, lines: string[]): Promise<Reply> {
  const port = ((await setup('main')).server.address() as AddressInfo).port
  const res = await rawRequest(port, requestLine, lines)
  return { statusCode: res.status, headers: res.headers, body: res.body }
}

/** A DPoP request to `main` (or `name`): a bound token and a proof for GET `path`, `options` changing the proof. */
async function dpop (path: string, options: Partial<ProofOptions> = {}, extra: { name?: SetupName, token?: string, headers?: Record<string, string> } = {}): Promise<Reply> {
  const value = extra.token ?? await bound()
  const dpopProof = await proof({ key, url: ORIGIN + path, accessToken: value, ...options })
  return await get(extra.name ?? 'main', path, { authorization: `DPoP ${value}`, dpop: dpopProof, ...extra.headers })
}

/**
 * A proof written by hand, for what jose will not sign (unknown `crit`, a private `jwk` …): the
 * header and payload checks come before the signature, which is left a dummy.
 */
async function handProof (header: Record<string, unknown>, payload: Record<string, unknown>, path = '/private'): Promise<Reply> {
  const value = await bound()
  const { createHash } = await import('node:crypto')
  const ath = createHash('sha256').update(value).digest('base64url')
  const h = { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk, ...header }
  const p = { jti: 'hand-made', htm: 'GET', htu: ORIGIN + path, iat: now(), ath, ...payload }
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k as keyof typeof h]
  for (const [k, v] of Object.entries(p)) if (v === undefined) delete p[k as keyof typeof p]
  return await get('main', path, { authorization: `DPoP ${value}`, dpop: `${segment(h)}.${segment(p)}.c2lnbmF0dXJl` })
}

/** A proof whose signature is another proof's (same key, same header): it cannot verify. */
async function forgedSignature (): Promise<Reply> {
  const value = await bound()
  const a = await proof({ key, url: `${ORIGIN}/private`, accessToken: value })
  const b = await proof({ key, url: `${ORIGIN}/private`, accessToken: value })
  return await get('main', '/private', { authorization: `DPoP ${value}`, dpop: `${a.split('.').slice(0, 2).join('.')}.${b.split('.')[2] as string}` })
}

// ---------------------------------------------------------------------------------------------
// The table: one case per documented reason.

interface Case {
  status: number
  error: string
  /**
   * Which challenge carries `error`: `Bearer` or `DPoP`; `bare` for the challenge without an
   * error parameter (RFC 6750 §3.1); `none` for a 5xx, which carries no challenge.
   */
  on: 'Bearer' | 'DPoP' | 'bare' | 'none'
  send: () => Promise<Reply>
}

const invalidToken = (send: () => Promise<Reply>, on: Case['on'] = 'Bearer'): Case => ({ status: 401, error: 'invalid_token', on, send })
const badRequest = (send: () => Promise<Reply>, on: Case['on'] = 'Bearer'): Case => ({ status: 400, error: 'invalid_request', on, send })
const badProof = (send: () => Promise<Reply>): Case => ({ status: 401, error: 'invalid_dpop_proof', on: 'DPoP', send })
const internal = (send: () => Promise<Reply>): Case => ({ status: 500, error: 'internal_server_error', on: 'none', send })
const stepUp = (send: () => Promise<Reply>): Case => ({ status: 401, error: 'insufficient_user_authentication', on: 'Bearer', send })
const jwe = (make: () => Promise<string>): Case => invalidToken(async () => await get('jwe', '/private', bearer(await make())))

const CASES: Record<string, Case> = {
  // No usable credentials: the bare challenge.
  credentials_missing: { status: 401, error: 'invalid_request', on: 'bare', send: async () => await get('main', '/private', {}) },
  authorization_scheme_unsupported: { status: 401, error: 'invalid_request', on: 'bare', send: async () => await get('main', '/private', { authorization: 'Basic YWxpY2U6c2VjcmV0' }) },
  // The Authorization header and the scheme rules.
  authorization_header_malformed: badRequest(async () => await get('main', '/private', { authorization: 'Bearer' })),
  authorization_header_repeated: badRequest(async () => await raw('GET /private HTTP/1.1', [`Host: ${HOST}`, `Authorization: Bearer ${await token()}`, `Authorization: Bearer ${await token()}`])),
  dpop_proof_with_bearer: badRequest(async () => await get('main', '/private', { ...bearer(await token()), dpop: await proof({ key, url: `${ORIGIN}/private` }) })),
  dpop_required: badRequest(async () => await get('main', '/required', bearer(await token())), 'DPoP'),
  dpop_disabled: badRequest(async () => await get('disabled', '/private', { authorization: `DPoP ${await token()}` })),
  // Token sources.
  token_sources_multiple: badRequest(async () => await get('main', `/query?access_token=${await token()}`, bearer(await token()))),
  access_token_repeated: badRequest(async () => await get('main', `/query?access_token=${await token()}&access_token=${await token()}`, {})),
  access_token_malformed: badRequest(async () => await get('main', '/query?access_token=a%20b', {})),
  body_not_parsed: internal(async () => await get('main', '/form', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', `access_token=${await token()}`)),
  // mTLS-bound tokens (`mtls.certificate` reads the certificate the test names).
  mtls_certificate_missing: invalidToken(async () => await get('main', '/private', bearer(await token({ cnf: { 'x5t#S256': alice.thumbprint } })))),
  mtls_certificate_unreadable: invalidToken(async () => await get('main', '/private', { ...bearer(await token({ cnf: { 'x5t#S256': alice.thumbprint } })), 'x-test-certificate': 'unreadable' })),
  x5t_mismatch: invalidToken(async () => await get('main', '/private', { ...bearer(await token({ cnf: { 'x5t#S256': alice.thumbprint } })), 'x-test-certificate': 'bob' })),
  mtls_certificate_failed: internal(async () => await get('main', '/private', { ...bearer(await token({ cnf: { 'x5t#S256': alice.thumbprint } })), 'x-test-certificate': 'throw' })),
  // The token.
  not_a_jws: invalidToken(async () => await get('main', '/private', bearer('an-opaque-token'))),
  malformed: invalidToken(async () => await get('main', '/private', bearer('a.b.c'))),
  token_too_large: invalidToken(async () => await get('main', '/private', bearer('a'.repeat(16385)))),
  alg_not_allowed: invalidToken(async () => await get('main', '/private', bearer(signHmac({ alg: 'HS256', typ: 'JWT' }, claimsFor(issuer.issuer, AUDIENCE), 'a secret')))),
  header_unsupported: invalidToken(async () => await get('main', '/private', bearer(await signRaw({ alg: 'RS256', kid: issuer.currentKey.kid, crit: ['x-unknown'], 'x-unknown': 1 }, claimsFor(issuer.issuer, AUDIENCE), issuer.currentKey.privateKey)))),
  issuer_missing: invalidToken(async () => await get('main', '/private', bearer(await token({ iss: undefined })))),
  issuer_not_allowed: invalidToken(async () => await get('main', '/private', bearer(await token({ iss: 'https://evil.example/' })))),
  kid_not_found: invalidToken(async () => await get('main', '/private', bearer(await token({}, { header: { kid: 'no-such-kid' } })))),
  kid_ambiguous: invalidToken(async () => {
    const own = issuerOf(await setup('keys'))
    return await get('keys', '/private', bearer(await signRaw({ alg: 'RS256', typ: 'JWT' }, claimsFor(own.issuer, AUDIENCE), own.currentKey.privateKey)))
  }),
  key_unusable: invalidToken(async () => {
    const own = issuerOf(await setup('keys'))
    return await get('keys', '/private', bearer(await signRaw({ alg: 'RS256', kid: 'weak-1024', typ: 'JWT' }, claimsFor(own.issuer, AUDIENCE), weak.privateKey)))
  }),
  signature_invalid: invalidToken(async () => await get('main', '/private', bearer(await token({}, { signingKey: (await issuer.foreignKey()).privateKey })))),
  token_expired: invalidToken(async () => await get('main', '/private', bearer(await token({ exp: now() - 600 })))),
  token_not_yet_valid: invalidToken(async () => await get('main', '/private', bearer(await token({ nbf: now() + 600 })))),
  exp_invalid: invalidToken(async () => await get('main', '/private', bearer(await token({ exp: 'tomorrow' })))),
  nbf_invalid: invalidToken(async () => await get('main', '/private', bearer(await token({ nbf: 'later' })))),
  iat_invalid: invalidToken(async () => await get('main', '/private', bearer(await token({ iat: now() + 600 })))),
  issuer_mismatch: invalidToken(async () => await get('main', '/private', bearer(await token({ iss: issuer.issuer.slice(0, -1) })))),
  audience_mismatch: invalidToken(async () => await get('main', '/private', bearer(await token({ aud: 'https://another-api.example/' })))),
  claim_missing: invalidToken(async () => await get('main', '/private', bearer(await token({ exp: undefined })))),
  sub_invalid: invalidToken(async () => await get('main', '/private', bearer(await token({ sub: '' })))),
  cnf_invalid: invalidToken(async () => await get('main', '/private', bearer(await token({ cnf: 'bound' })))),
  binding_unsupported: invalidToken(async () => await get('main', '/private', bearer(await token({ cnf: { jwk: key.publicJwk } })))),
  bound_token_as_bearer: invalidToken(async () => await get('main', '/private', bearer(await bound()))),
  // Encrypted tokens (`decryption` with `required: true`).
  jwe_required: jwe(async () => await token()),
  jwe_malformed: jwe(async () => produceJwe(await token(), rsa.publicKey, { header: { kid: 42 } })),
  jwe_header_unsupported: jwe(async () => produceJwe(await token(), rsa.publicKey, { header: { zip: 'DEF' } })),
  jwe_alg_not_allowed: jwe(async () => produceJwe(await token(), rsa.publicKey, { alg: 'RSA-OAEP' })),
  jwe_enc_not_allowed: jwe(async () => produceJwe(await token(), rsa.publicKey, { enc: 'A128GCM' })),
  jwe_kid_unknown: jwe(async () => produceJwe(await token(), rsa.publicKey, { header: { kid: 'another-key' } })),
  decryption_failed: jwe(async () => produceJwe(await token(), otherRsa.publicKey)),
  jwe_payload_invalid: jwe(async () => produceJwe(JSON.stringify(claimsFor(issuer.issuer, AUDIENCE)), rsa.publicKey)),
  // Policies.
  typ_not_access_token: invalidToken(async () => await get('main', '/private', bearer(await token({}, { header: { typ: 'logout+jwt' } })))),
  typ_not_at_jwt: invalidToken(async () => await get('profile', '/private', bearer(await token({ client_id: 'c', jti: 'j' }, { header: { typ: 'JWT' } })))),
  profile_claim_missing: invalidToken(async () => await get('profile', '/private', bearer(await token({ jti: 'j' })))),
  token_too_old: invalidToken(async () => await get('profile', '/private', bearer(await token({ client_id: 'c', jti: 'j', iat: now() - 3600 })))),
  organization_missing: invalidToken(async () => await get('main', '/org-id', bearer(await token()))),
  organization_not_allowed: invalidToken(async () => await get('main', '/org-id', bearer(await token({ org_id: 'org_other' })))),
  organization_name_missing: invalidToken(async () => await get('main', '/org-name', bearer(await token({ org_id: 'org_abc' })))),
  organization_check_failed: internal(async () => await get('main', '/org-throws', bearer(await token({ org_id: 'org_abc' })))),
  acr_missing: stepUp(async () => await get('main', '/acr', bearer(await token()))),
  acr_not_allowed: stepUp(async () => await get('main', '/acr', bearer(await token({ acr: 'bronze' })))),
  auth_time_missing: stepUp(async () => await get('main', '/max-age', bearer(await token()))),
  max_age_exceeded: stepUp(async () => await get('main', '/max-age', bearer(await token({ auth_time: now() - 3600 })))),
  insufficient_scope: { status: 403, error: 'insufficient_scope', on: 'Bearer', send: async () => await get('main', '/messages', bearer(await token({ scope: 'read:other' }))) },
  check_failed: { status: 403, error: 'insufficient_scope', on: 'Bearer', send: async () => await get('main', '/check-refuses', bearer(await token())) },
  check_error: internal(async () => await get('main', '/check-throws', bearer(await token()))),
  // The issuer.
  issuer_unavailable: { status: 503, error: 'temporarily_unavailable', on: 'none', send: async () => await get('outage', '/private', bearer(await issuerOf(await setup('outage')).token())) },
  discovery_issuer_mismatch: internal(async () => await get('mismatch', '/private', bearer(await issuerOf(await setup('mismatch')).token()))),
  domains_resolver_failed: internal(async () => await get('resolver', '/private', bearer(await token()))),
  // A request object the application built wrong for fastify.auth0.verify(): an Authorization
  // "header" that is a number. Nothing else reaches this fallback (every known failure has its reason).
  unexpected: internal(async () => await get('main', '/verify', { 'x-test-odd': 'yes', 'x-test-url': `${ORIGIN}/verify` })),
  // The request URL of a DPoP request.
  dpop_proof_missing: badRequest(async () => await get('main', '/private', { authorization: `DPoP ${await bound()}` }), 'DPoP'),
  dpop_proof_repeated: badRequest(async () => {
    const value = await bound()
    const one = await proof({ key, url: `${ORIGIN}/private`, accessToken: value })
    return await get('main', '/private', { authorization: `DPoP ${value}`, dpop: `${one}, ${one}` })
  }, 'DPoP'),
  host_invalid: badRequest(async () => await rawDpop('GET /private HTTP/1.1', ['Host: api.example.com/admin?']), 'DPoP'),
  host_repeated: badRequest(async () => await rawDpop('GET /private HTTP/1.1', ['Host: a.example.com', 'Host: b.example.com']), 'DPoP'),
  host_missing: badRequest(async () => await rawDpop('GET /private HTTP/1.0', []), 'DPoP'),
  request_target_invalid: badRequest(async () => await rawDpop(`GET ${ORIGIN}/private HTTP/1.1`, [`Host: ${HOST}`]), 'DPoP'),
  forwarded_host_invalid: badRequest(async () => await dpop('/private', {}, { headers: { 'x-forwarded-host': 'evil@api.example.com' } }), 'DPoP'),
  forwarded_proto_invalid: badRequest(async () => await dpop('/private', {}, { headers: { 'x-forwarded-proto': 'ftp' } }), 'DPoP'),
  forwarded_prefix_invalid: badRequest(async () => await dpop('/private', {}, { headers: { 'x-forwarded-prefix': '/../admin' } }), 'DPoP'),
  request_url_invalid: badRequest(async () => await dpop('/verify', {}, { headers: { 'x-test-url': 'ftp://api.example.com/verify' } }), 'DPoP'),
  dpop_request_url_unknown: internal(async () => await dpop('/verify', {}, { headers: { 'x-test-url': '/verify' } })),
  // The proof.
  proof_too_large: badProof(async () => await get('main', '/private', { authorization: `DPoP ${await bound()}`, dpop: 'a'.repeat(8193) })),
  proof_malformed: badProof(async () => await get('main', '/private', { authorization: `DPoP ${await bound()}`, dpop: 'not.a.proof' })),
  proof_typ_invalid: badProof(async () => await dpop('/private', { header: { typ: 'JWT' } })),
  proof_alg_not_allowed: badProof(async () => {
    const value = await bound()
    return await get('main', '/private', { authorization: `DPoP ${value}`, dpop: await proof({ key: await dpopKey('ES384'), url: `${ORIGIN}/private`, accessToken: value }) })
  }),
  proof_crit_unsupported: badProof(async () => await handProof({ crit: ['x-unknown'], 'x-unknown': 1 }, {})),
  proof_jwk_missing: badProof(async () => await handProof({ jwk: undefined }, {})),
  proof_jwk_private: badProof(async () => await handProof({ jwk: key.privateJwk }, {})),
  proof_jwk_mismatch: badProof(async () => await handProof({ jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }, {})),
  proof_jti_invalid: badProof(async () => await handProof({}, { jti: '' })),
  proof_jti_too_long: badProof(async () => await handProof({}, { jti: 'j'.repeat(257) })),
  proof_htm_invalid: badProof(async () => await handProof({}, { htm: undefined })),
  proof_htm_mismatch: badProof(async () => await dpop('/private', { method: 'POST' })),
  proof_htu_invalid: badProof(async () => await handProof({}, { htu: 'not a URL' })),
  proof_htu_mismatch: badProof(async () => await handProof({}, { htu: `${ORIGIN}/admin` })),
  proof_iat_invalid: badProof(async () => await handProof({}, { iat: 'now' })),
  proof_iat_too_old: badProof(async () => await dpop('/private', { iat: now() - 3600 })),
  proof_iat_in_future: badProof(async () => await dpop('/private', { iat: now() + 3600 })),
  proof_ath_missing: badProof(async () => await handProof({}, { ath: undefined })),
  proof_ath_mismatch: badProof(async () => await dpop('/private', { accessToken: await token() })),
  proof_nonce_invalid: badProof(async () => await dpop('/private', { claims: { nonce: 7 } }, { name: 'nonces' })),
  proof_signature_invalid: badProof(forgedSignature),
  proof_expired: badProof(async () => await dpop('/private', { claims: { exp: now() - 60 } })),
  // jose's claim rules on the proof beyond `exp`: a `nbf` in the future.
  proof_invalid: badProof(async () => await dpop('/private', { claims: { nbf: now() + 3600 } })),
  proof_replayed: badProof(async () => {
    const value = await bound()
    const once = await proof({ key, url: `${ORIGIN}/private`, accessToken: value })
    const first = await get('main', '/private', { authorization: `DPoP ${value}`, dpop: once })
    if (first.statusCode !== 200) throw new Error(`the first use of the proof was refused: ${first.body}`)
    published.length = 0
    hooked.length = 0
    return await get('main', '/private', { authorization: `DPoP ${value}`, dpop: once })
  }),
  nonce_missing: { status: 401, error: 'use_dpop_nonce', on: 'DPoP', send: async () => await dpop('/private', {}, { name: 'nonces' }) },
  nonce_stale: { status: 401, error: 'use_dpop_nonce', on: 'DPoP', send: async () => await dpop('/private', { nonce: 'n'.repeat(43) }, { name: 'nonces' }) },
  token_not_bound: invalidToken(async () => await dpop('/private', {}, { token: await token() }), 'DPoP'),
  jkt_mismatch: invalidToken(async () => await dpop('/private', {}, { token: await bound({}, otherKey) }), 'DPoP'),
  replay_store_failed: { status: 503, error: 'temporarily_unavailable', on: 'none', send: async () => await dpop('/private', {}, { name: 'replay' }) }
}

/** A DPoP request over the raw socket (a bound token, a proof for `${ORIGIN}/private`). */
async function rawDpop (requestLine: string, lines: string[]): Promise<Reply> {
  const value = await bound()
  const dpopProof = await proof({ key, url: `${ORIGIN}/private`, accessToken: value })
  return await raw(requestLine, [`Authorization: DPoP ${value}`, `DPoP: ${dpopProof}`, ...lines])
}

function issuerOf (fastify: FastifyInstance): TestIssuer {
  return issuers.get(fastify) as TestIssuer
}

// ---------------------------------------------------------------------------------------------

t.test('the table covers exactly the reasons the README documents', async (t) => {
  const documented = documentedReasons()
  t.ok(documented.length > 100, `reasons documented (${documented.length})`)
  t.same(documented.filter((reason) => !(reason in CASES)), [], 'every documented reason has a case')
  t.same(Object.keys(CASES).filter((reason) => !documented.includes(reason)), [], 'every case is a documented reason')
})

for (const [reason, c] of Object.entries(CASES)) {
  t.test(`${reason}: ${c.status} ${c.error}`, async (t) => {
    published.length = 0
    hooked.length = 0
    const reply = await c.send()
    t.equal(reply.statusCode, c.status, 'status')
    let body: { detail?: { error?: unknown, error_description?: unknown } } = {}
    try { body = JSON.parse(reply.body) } catch { t.fail(`a JSON body: ${reply.body}`) }
    t.equal(body.detail?.error, c.error, 'body error')
    t.match(body.detail?.error_description, /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/, 'body error_description, in the challenge grammar')
    t.same(published, [reason], 'reason on the diagnostics channel')
    t.same(hooked, [reason], 'reason seen by onAuthError')
    const checked = expectGrammar(t, reply)
    const header = reply.headers['www-authenticate']
    if (c.on === 'none') {
      t.equal(header, undefined, 'no challenge on a 5xx')
      if (c.status === 503) t.match(reply.headers['retry-after'], /^[1-9]\d*$/, 'Retry-After')
    } else if (c.on === 'bare') {
      t.equal(checked?.withError, undefined, 'no error parameter (RFC 6750 §3.1)')
      t.ok(checked?.challenges.some((ch) => ch.scheme === 'Bearer'), 'a Bearer challenge')
    } else {
      t.equal(checked?.withError?.scheme, c.on, `the ${c.on} challenge carries the error`)
      t.equal(checked?.withError?.params.error, c.error, 'challenge error')
    }
    if (c.error === 'use_dpop_nonce') t.match(reply.headers['dpop-nonce'], /^[A-Za-z0-9_-]{43}$/, 'DPoP-Nonce')
  })
}
