/**
 * The plugin's own cost per request as a ratio to the signature check no verifier can skip
 * (`npm run bench:in-process`). In one process and one run, interleaved round after round:
 * - **raw**: `crypto.verify` of the scenario's signature on the same token string (RS256 for
 *   S1–S4, the ES256 proof for S5): split at the last dot, signing input as bytes, signature
 *   base64url-decoded, a `KeyObject` made once. The physical limit of a verifier given the token.
 * - **fast-jwt**: fast-jwt's synchronous verifier (the core of fastify-auth0-verify, the fastest
 *   HTTP peer) on the same tokens: RS256, `allowedIss`, `allowedAud`, its cache off (its default).
 * - **ours**: the hook `app.requireAuth()` returns, called directly as Fastify calls it (with
 *   `done`), with a minimal request and a reply that records what is sent. A real issuer, real
 *   keys, the real plugin; no socket, no HTTP parser, no routing.
 * - **ours@before** (opt-in, `BENCH_BASELINE=/path/to/a/built/checkout`): the plugin as built in
 *   another checkout (its `dist/index.js`), on the same tokens, for before/after in one run.
 * - **features**: every option that adds work per request, each in its own plugin instance, on S1
 *   (the same token) and S2 (a distinct token per request), so that its cost is a ratio too.
 *
 * Every figure is ns per operation; a ratio is taken within a round (against the raw
 * verification measured in the same group, just before and just after), then the median and
 * min–max over rounds are reported. Bounded: every loop runs a fixed count.
 */
import dc from 'node:diagnostics_channel'
import { execFileSync } from 'node:child_process'
import { createHmac, createPublicKey, KeyObject, randomBytes, sign, verify, X509Certificate, type webcrypto } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { createVerifier } from 'fast-jwt'
import auth0Plugin from '../lib/index.js'
import { diagnosticsChannels } from '../lib/diagnostics/channels.js'
import { certificateThumbprint } from '../lib/mtls/thumbprint.js'
import { createTestIssuer, decryptionKeyPair, encryptToken } from '../lib/testing/index.js'
import type { TestIssuer } from '../lib/testing/issuer.js'
import { DpopClient } from './tokens.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
/** Operations per measurement for the scenarios that use up a token pool (S2, S5). */
const N = Number(process.env.N ?? 2000)
/** Operations per measurement for the cheap scenarios (S1, S4): long enough to be measured. */
const N_CHEAP = Number(process.env.N_CHEAP ?? N * 5)
const AUDIENCE = 'https://api.example.com/'
const HOST = 'api.example.test'
const BASELINE = process.env.BENCH_BASELINE
const ONLY = process.env.BENCH_ROWS === undefined ? undefined : new RegExp(process.env.BENCH_ROWS)
const started = Date.now()

const issuer = await createTestIssuer({ audience: AUDIENCE })
const hmacIssuer = await createTestIssuer({ audience: AUDIENCE, alg: 'HS256' })

// ---------------------------------------------------------------------------------------------
// Tokens: minted before anything is measured, synchronously with node:crypto (same header and
// base claims as the kit's `issuer.token()`), so tens of thousands cost seconds, not minutes.

const b64u = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

class Minter {
  readonly #key: KeyObject | Buffer
  readonly #header: string
  readonly #hmac: boolean
  readonly #tag = randomBytes(4).toString('hex')

  constructor (from: TestIssuer, header: Record<string, unknown> = {}) {
    const current = from.currentKey
    this.#hmac = from.secret !== undefined
    this.#key = this.#hmac ? Buffer.from(from.secret as string) : KeyObject.from(current.privateKey as unknown as webcrypto.CryptoKey)
    this.#header = b64u(this.#hmac ? { alg: 'HS256', typ: 'at+jwt', ...header } : { alg: current.alg, kid: current.kid, typ: 'at+jwt', ...header })
  }

  mint (claims: Record<string, unknown>, i: number): string {
    const now = Math.floor(Date.now() / 1000)
    const input = `${this.#header}.${b64u({ iss: issuer.issuer, aud: AUDIENCE, sub: 'test-user', iat: now, exp: now + 3600, jti: `b-${this.#tag}-${i}`, ...claims })}`
    const signature = this.#hmac
      ? createHmac('sha256', this.#key as Buffer).update(input).digest()
      : sign('sha256', Buffer.from(input), this.#key as KeyObject)
    return `${input}.${signature.toString('base64url')}`
  }

  pool (claims: Record<string, unknown>, n: number): string[] {
    return Array.from({ length: n }, (_, i) => this.mint(claims, i))
  }
}

const POOL = N * ROUNDS + N // the warm-up uses the last N
const rs = new Minter(issuer)
const plainPool = rs.pool({}, POOL)
// Every claim the policies read: the policy rows and their reference row use these.
const RICH = {
  scope: 'read:messages write:messages',
  client_id: 'bench-client',
  org_id: 'org_bench',
  org_name: 'bench',
  acr: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
  auth_time: Math.floor(Date.now() / 1000) - 60
}
const richPool = rs.pool(RICH, POOL)
const hsPool = new Minter(hmacIssuer).pool({}, POOL)
const foreign = await issuer.foreignKey()
const badSignature = await issuer.token({}, { signingKey: foreign.privateKey })

// mTLS: a client certificate (openssl: node:crypto cannot issue one) on a TLS-like socket.
const certificate = makeCertificate()
const mtlsPool = certificate === undefined ? [] : rs.pool({ cnf: { 'x5t#S256': certificateThumbprint(certificate) } }, POOL)
// One connection (keep-alive): Node gives the same socket to every request on it.
const tlsSocket = certificate === undefined ? undefined : { remoteAddress: '127.0.0.1', getPeerX509Certificate: () => certificate, encrypted: true }

// JWE: the plain pool, each token encrypted for the API (RSA-OAEP-256 + A256GCM, as Auth0).
const jweKey = decryptionKeyPair()
const jwePool: string[] = []
for (let i = 0; i < POOL; i += 256) {
  jwePool.push(...await Promise.all(plainPool.slice(i, i + 256).map(async (t) => await encryptToken(t, { publicKey: jweKey.publicKey }))))
}

const dpop = await DpopClient.create(issuer)
const proofs = dpop.proofs(`http://${HOST}/protected`, POOL)

function makeCertificate (): X509Certificate | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cert-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '1', '-nodes',
      '-subj', '/CN=bench-client', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
    return new X509Certificate(readFileSync(join(dir, 'cert.pem')))
  } catch {
    process.stderr.write('openssl not found: the mTLS rows are left out\n')
    return undefined
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// Contenders

type Op = (i: number) => unknown
interface Hook { (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): unknown }

/** A request as the hook reads it (headers, raw headers, URL parts for DPoP `htu`, the socket for mTLS). */
class BenchRequest {
  method = 'GET'
  url: string
  originalUrl: string
  protocol = 'http'
  host = HOST
  hostname = HOST
  headers: Record<string, string>
  raw: { url: string, rawHeaders: string[], headers: Record<string, string>, socket: unknown }
  log = { info () {}, warn () {}, error () {}, debug () {} }
  routeOptions = { url: '/protected' }
  claims: unknown = undefined
  auth: unknown = undefined

  constructor (headers: Record<string, string>, url = '/protected', socket: unknown = undefined) {
    this.url = url
    this.originalUrl = url
    this.headers = headers
    const rawHeaders: string[] = []
    for (const name in headers) rawHeaders.push(name, headers[name] as string)
    this.raw = { url, rawHeaders, headers, socket }
  }
}

class Recorder {
  status = 200
  sent = false
  doneCalled = false
  readonly reply: FastifyReply
  readonly done = (err?: Error): void => { if (err !== undefined) throw err; this.doneCalled = true }

  constructor () {
    const self = this
    const reply = {
      get sent () { return self.sent },
      code (code: number) { self.status = code; return reply },
      header () { return reply },
      headers () { return reply },
      type () { return reply },
      send () { self.sent = true; return reply }
    }
    this.reply = reply as unknown as FastifyReply
  }
}

interface Ours { app: FastifyInstance, hook: Hook }

async function ours (plugin: unknown, options: Record<string, unknown>, spec?: unknown): Promise<Ours> {
  const app = Fastify({ logger: false })
  await app.register(plugin as Parameters<FastifyInstance['register']>[0], { env: {}, ...options })
  await app.ready()
  const hook = (app as unknown as { requireAuth: (spec?: unknown) => Hook }).requireAuth(spec)
  return { app, hook }
}

/** `n` calls of the hook, each checked; awaits only when the hook returns a promise. */
function hookOp (target: Ours, expect: number, make: (i: number) => BenchRequest): Op {
  const recorder = new Recorder()
  return (i) => {
    recorder.status = 200
    recorder.sent = false
    recorder.doneCalled = false
    const result = target.hook.call(target.app, make(i) as unknown as FastifyRequest, recorder.reply, recorder.done)
    const check = (): void => {
      if (recorder.status !== expect || (expect === 200 && !recorder.doneCalled && !(result instanceof Promise))) {
        throw new Error(`answered ${recorder.status}, expected ${expect}`)
      }
    }
    if (result instanceof Promise) return result.then(check)
    check()
    return undefined
  }
}

const bearer = (token: string): Record<string, string> => ({ host: HOST, authorization: `Bearer ${token}` })
const bearerRequest = (token: string): BenchRequest => new BenchRequest(bearer(token))

const issuerKey = KeyObject.from(issuer.currentKey.privateKey as unknown as webcrypto.CryptoKey)
const rsaPublic = createPublicKey(issuerKey)
const rsaPublicPem = rsaPublic.export({ type: 'spki', format: 'pem' }) as string

/** The raw signature check of `token` (RS256), as cheap as a verifier given the string can be. */
function rawRs256 (token: string): boolean {
  const dot = token.lastIndexOf('.')
  return verify('sha256', Buffer.from(token.slice(0, dot), 'latin1'), rsaPublic, Buffer.from(token.slice(dot + 1), 'base64url'))
}
const proofKey = createPublicKey({ key: JSON.parse(Buffer.from((proofs[0] as string).split('.')[0] as string, 'base64url').toString()).jwk, format: 'jwk' })
function rawEs256 (proof: string): boolean {
  const dot = proof.lastIndexOf('.')
  return verify('sha256', Buffer.from(proof.slice(0, dot), 'latin1'), { key: proofKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(proof.slice(dot + 1), 'base64url'))
}
const fastJwt = createVerifier({ key: rsaPublicPem, algorithms: ['RS256'], allowedIss: issuer.issuer, allowedAud: AUDIENCE })
function fastJwtRefuses (token: string): boolean {
  try { fastJwt(token); return false } catch { return true }
}

const expectTrue = (value: boolean): void => { if (!value) throw new Error('raw verification failed') }
const expectFalse = (value: boolean): void => { if (value) throw new Error('raw verification passed a bad signature') }

// ---------------------------------------------------------------------------------------------
// Instances: the default configuration, the baseline, and one per priced feature.

const base = { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE }
const standard = await ours(auth0Plugin, base)
const beforePlugin = BASELINE === undefined
  ? undefined
  : (await import(pathToFileURL(join(resolve(BASELINE), 'dist/index.js')).href) as { default: unknown }).default
const before = beforePlugin === undefined ? undefined : await ours(beforePlugin, base)

interface Row {
  /** Scenario group: the raw verification measured around the group is each row's denominator. */
  group: 'S1' | 'S2' | 'S3' | 'S4' | 'S5'
  name: string
  /** raw | fast-jwt | ours | before | feature */
  kind: 'raw' | 'fast-jwt' | 'ours' | 'before' | 'feature'
  n: number
  /** Consumes one pool entry per operation (each instance sees a token at most once per use). */
  pooled: boolean
  op: Op
  /** Runs around the measurement (a diagnostics subscriber on for this row only). */
  setup?: () => () => void
}

const rows: Row[] = []
const add = (row: Row): void => { if (ONLY === undefined || row.kind === 'raw' || ONLY.test(`${row.group} ${row.name}`)) rows.push(row) }
const at = <T>(pool: T[], i: number): T => pool[i] as T
const valid = at(plainPool, POOL - 1)
const richValid = at(richPool, POOL - 1)

// S1 — the same valid token (cached by ours after its second verification)
add({ group: 'S1', name: 'raw RS256 verify', kind: 'raw', n: N_CHEAP, pooled: false, op: () => expectTrue(rawRs256(valid)) })
add({ group: 'S1', name: 'fast-jwt', kind: 'fast-jwt', n: N_CHEAP / 5, pooled: false, op: () => fastJwt(valid) })
add({ group: 'S1', name: 'ours', kind: 'ours', n: N_CHEAP, pooled: false, op: hookOp(standard, 200, () => bearerRequest(valid)) })
if (before !== undefined) add({ group: 'S1', name: 'ours@before', kind: 'before', n: N_CHEAP, pooled: false, op: hookOp(before, 200, () => bearerRequest(valid)) })
// S2 — a distinct valid token per request
add({ group: 'S2', name: 'raw RS256 verify', kind: 'raw', n: N, pooled: true, op: (i) => expectTrue(rawRs256(at(plainPool, i))) })
add({ group: 'S2', name: 'fast-jwt', kind: 'fast-jwt', n: N, pooled: true, op: (i) => fastJwt(at(plainPool, i)) })
add({ group: 'S2', name: 'ours', kind: 'ours', n: N, pooled: true, op: hookOp(standard, 200, (i) => bearerRequest(at(plainPool, i))) })
if (before !== undefined) add({ group: 'S2', name: 'ours@before', kind: 'before', n: N, pooled: true, op: hookOp(before, 200, (i) => bearerRequest(at(plainPool, i))) })
// S3 — a known kid, a bad signature
add({ group: 'S3', name: 'raw RS256 verify', kind: 'raw', n: N, pooled: false, op: () => expectFalse(rawRs256(badSignature)) })
add({ group: 'S3', name: 'fast-jwt', kind: 'fast-jwt', n: N, pooled: false, op: () => expectTrue(fastJwtRefuses(badSignature)) })
add({ group: 'S3', name: 'ours', kind: 'ours', n: N, pooled: false, op: hookOp(standard, 401, () => bearerRequest(badSignature)) })
if (before !== undefined) add({ group: 'S3', name: 'ours@before', kind: 'before', n: N, pooled: false, op: hookOp(before, 401, () => bearerRequest(badSignature)) })
// S4 — no credentials (denominator: the raw RS256 verification, as S1)
add({ group: 'S4', name: 'raw RS256 verify', kind: 'raw', n: N_CHEAP / 5, pooled: false, op: () => expectTrue(rawRs256(valid)) })
add({ group: 'S4', name: 'ours', kind: 'ours', n: N_CHEAP, pooled: false, op: hookOp(standard, 401, () => new BenchRequest({ host: HOST })) })
if (before !== undefined) add({ group: 'S4', name: 'ours@before', kind: 'before', n: N_CHEAP, pooled: false, op: hookOp(before, 401, () => new BenchRequest({ host: HOST })) })
// S5 — DPoP: a cached bound token, a fresh ES256 proof per request
const dpopRequest = (i: number): BenchRequest => new BenchRequest({ host: HOST, authorization: `DPoP ${dpop.token}`, dpop: at(proofs, i) })
add({ group: 'S5', name: 'raw ES256 verify (proof)', kind: 'raw', n: N, pooled: true, op: (i) => expectTrue(rawEs256(at(proofs, i))) })
// Own instances: each has its own replay store, so every proof is new to each.
add({ group: 'S5', name: 'ours', kind: 'ours', n: N, pooled: true, op: hookOp(await ours(auth0Plugin, base), 200, dpopRequest) })
if (beforePlugin !== undefined) add({ group: 'S5', name: 'ours@before', kind: 'before', n: N, pooled: true, op: hookOp(await ours(beforePlugin, base), 200, dpopRequest) })

// Features, priced on S1 and S2. The policy rows use tokens carrying every claim the policies
// read, so they are compared with the default configuration on those same tokens.
interface Feature { name: string, policy?: true, instance: Ours, s1: (i: number) => BenchRequest, s2: (i: number) => BenchRequest, setup?: () => () => void }
const plain = (pool: string[]) => (i: number) => bearerRequest(at(pool, i))
const richS1 = (): BenchRequest => bearerRequest(richValid)
const plainS1 = (): BenchRequest => bearerRequest(valid)
const features: Feature[] = [
  { name: 'default config, tokens with policy claims', instance: await ours(auth0Plugin, base), s1: richS1, s2: plain(richPool) },
  { name: 'profile: rfc9068', policy: true, instance: await ours(auth0Plugin, { ...base, profile: 'rfc9068' }), s1: richS1, s2: plain(richPool) },
  { name: 'maxTokenAge: 3600', policy: true, instance: await ours(auth0Plugin, { ...base, maxTokenAge: 3600 }), s1: richS1, s2: plain(richPool) },
  { name: 'organization: org id', policy: true, instance: await ours(auth0Plugin, { ...base, organization: 'org_bench' }), s1: richS1, s2: plain(richPool) },
  { name: 'route scopes (2)', policy: true, instance: await ours(auth0Plugin, base, { scopes: ['read:messages', 'write:messages'] }), s1: richS1, s2: plain(richPool) },
  { name: 'route acr + maxAge (step-up)', policy: true, instance: await ours(auth0Plugin, base, { acr: RICH.acr, maxAge: 3600 }), s1: richS1, s2: plain(richPool) },
  { name: 'route check (sync function)', policy: true, instance: await ours(auth0Plugin, base, { check: (claims: { sub?: string }) => claims.sub !== undefined }), s1: richS1, s2: plain(richPool) },
  {
    name: 'all policies together',
    policy: true,
    instance: await ours(auth0Plugin, { ...base, profile: 'rfc9068', maxTokenAge: 3600, organization: 'org_bench' }, { scopes: ['read:messages'], acr: RICH.acr, maxAge: 3600, check: () => true }),
    s1: richS1,
    s2: plain(richPool)
  },
  { name: 'HS256 secret', instance: await ours(auth0Plugin, { secret: hmacIssuer.secret, issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE }), s1: () => bearerRequest(at(hsPool, POOL - 1)), s2: plain(hsPool) },
  { name: 'JWE (RSA-OAEP-256 + A256GCM)', instance: await ours(auth0Plugin, { ...base, decryption: { keys: [{ privateKey: jweKey.privateKey }] } }), s1: () => bearerRequest(at(jwePool, POOL - 1)), s2: plain(jwePool) },
  { name: 'JWE configured, plain token', instance: await ours(auth0Plugin, { ...base, decryption: { keys: [{ privateKey: jweKey.privateKey }] } }), s1: plainS1, s2: plain(plainPool) },
  { name: 'tokenSources header+query+cookie, token in header', instance: await ours(auth0Plugin, { ...base, tokenSources: ['header', 'query', { cookie: 'at' }] }), s1: plainS1, s2: plain(plainPool) },
  {
    name: 'tokenSources header+query+cookie, token in cookie',
    instance: await ours(auth0Plugin, { ...base, tokenSources: ['header', 'query', { cookie: 'at' }] }),
    s1: () => new BenchRequest({ host: HOST, cookie: `theme=dark; at=${valid}` }),
    s2: (i) => new BenchRequest({ host: HOST, cookie: `theme=dark; at=${at(plainPool, i)}` })
  },
  {
    name: 'diagnostics channel with a subscriber',
    instance: await ours(auth0Plugin, base),
    s1: plainS1,
    s2: plain(plainPool),
    setup: () => {
      const listener = (): void => {}
      dc.subscribe(diagnosticsChannels.auth, listener)
      return () => { dc.unsubscribe(diagnosticsChannels.auth, listener) }
    }
  }
]
if (tlsSocket !== undefined) {
  const mtls = await ours(auth0Plugin, { ...base, mtls: true })
  const tls = (token: string): BenchRequest => new BenchRequest(bearer(token), '/protected', tlsSocket)
  features.push({ name: 'mTLS (certificate-bound token, TLS socket)', instance: mtls, s1: () => tls(at(mtlsPool, POOL - 1)), s2: (i) => tls(at(mtlsPool, i)) })
}
for (const f of features) {
  add({ group: 'S1', name: f.name, kind: 'feature', n: N_CHEAP, pooled: false, op: hookOp(f.instance, 200, f.s1), setup: f.setup })
  add({ group: 'S2', name: f.name, kind: 'feature', n: N, pooled: true, op: hookOp(f.instance, 200, f.s2), setup: f.setup })
}

// ---------------------------------------------------------------------------------------------
// Measurement

/** Operations per chunk: the cheap rows run longer chunks against shorter raw ones. */
const CHUNK: Record<Row['group'], { row: number, raw: number }> = {
  S1: { row: 50, raw: 5 }, S2: { row: 20, raw: 20 }, S3: { row: 20, raw: 20 }, S4: { row: 50, raw: 5 }, S5: { row: 20, raw: 20 }
}

interface Paired { rowNs: number, rawNs: number, rowMean: number, rawMean: number }

/**
 * ns/op of `count` operations: the process's CPU time (`BENCH_CLOCK=cpu`, the default: time the
 * process spends descheduled by other processes on a shared machine is not counted) or wall time.
 */
const CPU_CLOCK = (process.env.BENCH_CLOCK ?? 'cpu') === 'cpu'
async function chunk (row: Row, from: number, count: number): Promise<number> {
  const c0 = CPU_CLOCK ? process.cpuUsage() : undefined
  const t0 = process.hrtime.bigint()
  for (let i = from; i < from + count; i++) {
    const r = row.op(i)
    if (r instanceof Promise) await r
  }
  if (c0 !== undefined) {
    const used = process.cpuUsage(c0)
    return (used.user + used.system) * 1000 / count
  }
  return Number(process.hrtime.bigint() - t0) / count
}

/**
 * `row` and the raw verification of its group, alternating chunk by chunk, so both see the same
 * machine (other processes come and go within a second on a shared machine). Each is the median
 * of its chunks' ns/op (preemptions and GC pauses are left out of both); the means are kept too.
 */
async function paired (row: Row, raw: Row, offset: number): Promise<Paired> {
  const teardown = row.setup?.()
  const size = CHUNK[row.group]
  const rowTimes: number[] = []
  const rawTimes: number[] = []
  try {
    for (let done = 0, k = 0; done < row.n; done += size.row, k++) {
      const first = k % 2 === 0
      if (first) rawTimes.push(await chunk(raw, raw.pooled ? offset + (done % raw.n) : 0, size.raw))
      rowTimes.push(await chunk(row, row.pooled ? offset + done : 0, size.row))
      if (!first) rawTimes.push(await chunk(raw, raw.pooled ? offset + (done % raw.n) : 0, size.raw))
    }
  } finally {
    teardown?.()
  }
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length
  return { rowNs: median(rowTimes), rawNs: median(rawTimes), rowMean: mean(rowTimes), rawMean: mean(rawTimes) }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const groups = ['S1', 'S2', 'S3', 'S4', 'S5'] as const
const rawOf = (group: string): Row => rows.find((r) => r.group === group && r.kind === 'raw') as Row

// Warm-up: keys fetched, code optimised, the S1 tokens cached; every row answers as expected.
// Pooled rows use the pool's last N entries (never met again in the measured rounds).
process.stderr.write(`in-process: ${rows.length} rows, warming up\n`)
for (const row of rows) {
  if (row.kind === 'raw') continue
  const saved = row.n
  row.n = Math.max(100, Math.floor(N / 2))
  await paired(row, rawOf(row.group), N * ROUNDS)
  row.n = saved
}

const ns = new Map<Row, number[]>(rows.map((r) => [r, []]))
const means = new Map<Row, number[]>(rows.map((r) => [r, []]))
const ratios = new Map<Row, number[]>(rows.map((r) => [r, []]))
for (let round = 0; round < ROUNDS; round++) {
  process.stderr.write(`in-process: round ${round + 1}/${ROUNDS}\n`)
  for (const group of groups) {
    const raw = rawOf(group)
    const others = rows.filter((r) => r.group === group && r !== raw)
    // Rotate the order each round so no row always follows the same one.
    const order = others.map((_, k) => others[(k + round) % others.length] as Row)
    const rawNs: number[] = []
    const rawMeans: number[] = []
    for (const row of order) {
      const result = await paired(row, raw, round * N)
      ns.get(row)?.push(result.rowNs)
      means.get(row)?.push(result.rowMean)
      ratios.get(row)?.push(result.rowNs / result.rawNs)
      rawNs.push(result.rawNs)
      rawMeans.push(result.rawMean)
    }
    ns.get(raw)?.push(median(rawNs))
    means.get(raw)?.push(median(rawMeans))
    ratios.get(raw)?.push(1)
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const spread = (values: number[], digits: number, scale = 1): string =>
  `${(median(values) * scale).toFixed(digits)} (${(Math.min(...values) * scale).toFixed(digits)}–${(Math.max(...values) * scale).toFixed(digits)})`

const TARGETS: Record<string, { max: number, text: string }> = {
  S1: { max: 0.10, text: '≤ 0.10×' },
  S2: { max: 1.15, text: '≤ 1.15×, < fast-jwt' },
  S3: { max: 1.15, text: '≤ 1.15×' },
  S4: { max: 0.05, text: '≤ 0.05×' },
  S5: { max: 1.10, text: '≤ 1.10×' }
}
const TITLES: Record<string, string> = {
  S1: 'S1 the same valid RS256 token',
  S2: 'S2 a distinct valid token per request',
  S3: 'S3 bad signature (known kid)',
  S4: 'S4 no Authorization header (× raw RS256)',
  S5: 'S5 DPoP, cached bound token, fresh ES256 proof (× raw ES256 of the proof)'
}

interface JsonRow { group: string, name: string, kind: string, n: number, ns: number[], meanNs: number[], ratio: number[], medianNs: number, medianRatio: number }
const json: JsonRow[] = rows.map((r) => {
  const values = ns.get(r) as number[]
  const ratio = ratios.get(r) as number[]
  return { group: r.group, name: r.name, kind: r.kind, n: r.n, ns: values, meanNs: means.get(r) as number[], ratio, medianNs: median(values), medianRatio: median(ratio) }
})

const lines: string[] = []
const cpus = await import('node:os').then((os) => os.cpus())
lines.push(`In process, ${new Date().toISOString()}: ${CPU_CLOCK ? 'CPU time' : 'wall time'}, ${ROUNDS} interleaved rounds; ${N} requests per measurement (S1/S4: ${N_CHEAP}); Node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'CPU'}, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')} at the end.`)
lines.push('Each row is measured in chunks alternating with chunks of its group\'s raw verification; µs/op is the median chunk (GC pauses and preemptions left out; the mean µs/op keeps them), × raw the ratio of the two medians; figures are the median (min–max) over rounds.')
lines.push('')
lines.push('| scenario | system | µs/op | × raw | target | mean µs/op |')
lines.push('| --- | --- | ---: | ---: | --- | ---: |')
for (const group of groups) {
  const members = json.filter((r) => r.group === group && r.kind !== 'feature')
  const fast = json.find((r) => r.group === group && r.kind === 'fast-jwt')
  for (const r of members) {
    let verdict = ''
    if (r.kind === 'ours' || r.kind === 'before') {
      const target = TARGETS[group] as { max: number, text: string }
      const met = r.medianRatio <= target.max && (group !== 'S2' || fast === undefined || r.medianRatio < fast.medianRatio)
      verdict = `${target.text}: ${met ? 'met' : 'not met'}`
    }
    lines.push(`| ${r === members[0] ? TITLES[group] as string : ''} | ${r.name} | ${spread(r.ns, 2, 1e-3)} | ${spread(r.ratio, 3)} | ${verdict} | ${(median(r.meanNs) / 1000).toFixed(2)} |`)
  }
}
lines.push('')
lines.push('Features: each option in its own plugin instance, on S1 (the same token, cached) and S2 (a distinct token per request); ratio to the raw RS256 verification of the same round; Δ is the row\'s median ratio minus its reference row\'s (the default configuration: `ours`, or the policy-claims row for the policy options).')
lines.push('')
lines.push('| feature | S1 µs/op | S1 × raw | S1 Δ | S2 µs/op | S2 × raw | S2 Δ |')
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
const featureNames = [...new Set(json.filter((r) => r.kind === 'feature').map((r) => r.name))]
const oursRow = (group: string): JsonRow | undefined => json.find((r) => r.group === group && r.kind === 'ours')
for (const name of featureNames) {
  const cells: string[] = []
  for (const group of ['S1', 'S2']) {
    const r = json.find((x) => x.group === group && x.name === name)
    if (r === undefined) { cells.push('—', '—', '—'); continue }
    const policy = features.find((f) => f.name === name)?.policy === true
    const reference = policy ? json.find((x) => x.group === group && x.name === featureNames[0]) : oursRow(group)
    const delta = reference === undefined || reference === r ? '—' : `${r.medianRatio >= reference.medianRatio ? '+' : '−'}${Math.abs(r.medianRatio - reference.medianRatio).toFixed(3)}`
    cells.push(spread(r.ns, 2, 1e-3), spread(r.ratio, 3), delta)
  }
  lines.push(`| ${name} | ${cells.join(' | ')} |`)
}
const markdown = lines.join('\n') + '\n'
process.stdout.write(markdown)

const dir = join(process.cwd(), 'bench', 'results')
mkdirSync(dir, { recursive: true })
const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const document = { date: new Date().toISOString(), clock: CPU_CLOCK ? 'cpu' : 'wall', node: process.version, cpus: cpus.length, cpu: cpus[0]?.model, rounds: ROUNDS, n: N, nCheap: N_CHEAP, baseline: BASELINE ?? null, seconds: (Date.now() - started) / 1000, rows: json }
writeFileSync(join(dir, `in-process-${stamp}.json`), JSON.stringify(document, null, 2))
writeFileSync(join(dir, 'in-process-latest.json'), JSON.stringify(document, null, 2))
writeFileSync(join(dir, 'in-process-latest.md'), markdown)
process.stderr.write(`in-process: ${((Date.now() - started) / 1000).toFixed(0)} s; bench/results/in-process-latest.{json,md}\n`)

await standard.app.close()
await before?.app.close()
for (const f of features) await f.instance.app.close()
await issuer.close()
await hmacIssuer.close()
