/**
 * Soak test (`npm run soak`, not part of `npm test`): the plugin in its own server process
 * (bench/soak-server.ts: Redis cache adapter and replay store, DPoP allowed, nonces on) under a
 * bounded mixed load on 127.0.0.1 for a fixed time, with an issuer outage in the middle.
 *
 *   npm run soak                      10 minutes (default)
 *   npm run soak -- --duration 90s    or SOAK_DURATION=90s; also --rate (req/s, default 40)
 *                                     and --concurrency (default 4), or SOAK_RATE / SOAK_CONCURRENCY
 *
 * Every reply is checked against what its class must get (status, `error` code, challenge or
 * `Retry-After`); 503 is expected only in the outage window. It reports per-class counts, p50/p99
 * latency, the server's memory every minute (after a full GC) and the end-to-start RSS delta, and
 * exits 1 when any expectation fails. Loopback only; the loop stops at the deadline or after a
 * bounded number of requests, whichever comes first. Redis: REDIS_URL, or a private redis-server.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createTestIssuer, dpopKey, proof, type DpopKey, type SigningKey, type TestIssuer } from '../lib/testing/index.js'
import { startRedis, type TestRedis } from '../test/helpers/redis.js'

// ---------------------------------------------------------------- configuration

function option (flag: string, envName: string): string | undefined {
  const argv = process.argv.slice(2)
  const at = argv.indexOf(flag)
  if (at !== -1) return argv[at + 1]
  const inline = argv.find((a) => a.startsWith(`${flag}=`))
  return inline?.slice(flag.length + 1) ?? process.env[envName]
}

/** `600`, `600s`, `10m`, `1h` → seconds. */
export function parseDuration (text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim())
  if (match === null) throw new Error(`soak: cannot read duration "${text}" (e.g. 600, 90s, 10m)`)
  const value = Number(match[1]) * ({ s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h' | undefined ?? 's'])
  if (value < 20 || value > 4 * 3600) throw new Error('soak: duration must be between 20 s and 4 h')
  return value
}

function positive (text: string | undefined, fallback: number, name: string, max: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new Error(`soak: ${name} must be a number in (0, ${max}]`)
  return value
}

const DURATION_S = parseDuration(option('--duration', 'SOAK_DURATION') ?? '10m')
const RATE = positive(option('--rate', 'SOAK_RATE'), 40, 'rate', 500)
const CONCURRENCY = Math.floor(positive(option('--concurrency', 'SOAK_CONCURRENCY'), 4, 'concurrency', 64))
const MAX_REQUESTS = Math.ceil(RATE * DURATION_S * 1.2) + 1000
const AUDIENCE = 'https://soak.example.com/'
// The outage covers 40–65 % of the run. Keys stay fresh for 5 % of the run and stale keys keep
// verifying for another 5 %, so the outage is first absorbed by the cache, then answered with 503,
// then recovered from: all three show up in a run of any length.
const OUTAGE_START_S = DURATION_S * 0.40
const OUTAGE_END_S = DURATION_S * 0.65
const CACHE_TTL_S = Math.max(2, Math.round(DURATION_S * 0.05))
const STALE_S = CACHE_TTL_S
// After the restore the plugin waits out its failure backoff (5 s) before it asks again.
const RECOVERY_SLACK_S = 10
const NONCE_WINDOW_S = Math.min(3600, Math.max(10, Math.round(DURATION_S / 4)))

// ---------------------------------------------------------------- classes and expectations

type ClassName =
  | 'bearer_valid' | 'dpop_valid' | 'dpop_nonce_challenge' | 'dpop_nonce_retry' | 'dpop_replay'
  | 'expired' | 'bad_signature' | 'unknown_kid' | 'no_credentials'

interface Expectation { status: number, error?: string, describe: string }

const EXPECTED: Record<ClassName, Expectation> = {
  bearer_valid: { status: 200, describe: '200' },
  dpop_valid: { status: 200, describe: '200' },
  dpop_nonce_challenge: { status: 401, error: 'use_dpop_nonce', describe: '401 use_dpop_nonce + DPoP-Nonce' },
  dpop_nonce_retry: { status: 200, describe: '200' },
  dpop_replay: { status: 401, error: 'invalid_dpop_proof', describe: '401 invalid_dpop_proof' },
  expired: { status: 401, error: 'invalid_token', describe: '401 invalid_token' },
  bad_signature: { status: 401, error: 'invalid_token', describe: '401 invalid_token' },
  unknown_kid: { status: 401, error: 'invalid_token', describe: '401 invalid_token' },
  no_credentials: { status: 401, error: 'invalid_request', describe: '401 bare challenge' }
}

/** How often each scenario is picked (the nonce scenario sends two requests). */
const WEIGHTS: Array<[Scenario, number]> = [
  ['bearer_valid', 30], ['dpop_valid', 22], ['dpop_nonce', 5], ['dpop_replay', 7],
  ['expired', 9], ['bad_signature', 9], ['unknown_kid', 9], ['no_credentials', 9]
]
type Scenario = Exclude<ClassName, 'dpop_nonce_challenge' | 'dpop_nonce_retry'> | 'dpop_nonce'
const WEIGHT_SUM = WEIGHTS.reduce((sum, [, w]) => sum + w, 0)

interface Reply { status: number, headers: IncomingHttpHeaders, body: string, startS: number, endS: number, ms: number }

interface ClassStats {
  sent: number
  asExpected: number
  outage503: number
  unexpected: Map<string, number>
  latencies: number[]
}

const stats = new Map<ClassName, ClassStats>()
for (const name of Object.keys(EXPECTED) as ClassName[]) stats.set(name, { sent: 0, asExpected: 0, outage503: 0, unexpected: new Map(), latencies: [] })
let acceptedReplays = 0
let fivexxOutsideOutage = 0
let first503: number | undefined
let last503: number | undefined
const unexpectedSamples: string[] = []

function errorCode (body: string): string | undefined {
  try {
    return (JSON.parse(body) as { detail?: { error?: string } }).detail?.error
  } catch {
    return undefined
  }
}

/** Why a reply is not what `cls` must get, or undefined when it is. */
function mismatch (cls: ClassName, reply: Reply): string | undefined {
  const want = EXPECTED[cls]
  if (reply.status !== want.status) return `status ${reply.status}`
  if (want.status === 200) return undefined
  const code = errorCode(reply.body)
  if (code !== want.error) return `error ${String(code)}`
  const challenge = reply.headers['www-authenticate']
  // DPoP allowed: every 401 offers both schemes.
  if (typeof challenge !== 'string' || !challenge.startsWith('Bearer realm=') || !/, DPoP /.test(challenge) || !challenge.includes('algs="ES256"')) return 'challenge missing'
  if (cls === 'no_credentials' && challenge.includes('error=')) return 'error in a bare challenge'
  if (cls !== 'no_credentials' && !challenge.includes(`error="${String(want.error)}"`)) return 'challenge without the error'
  if (cls === 'dpop_nonce_challenge' && typeof reply.headers['dpop-nonce'] !== 'string') return 'no DPoP-Nonce'
  return undefined
}

function inOutageWindow (reply: Reply): boolean {
  return reply.endS >= OUTAGE_START_S && reply.startS <= OUTAGE_END_S + RECOVERY_SLACK_S
}

function record (cls: ClassName, reply: Reply): boolean {
  const s = stats.get(cls) as ClassStats
  s.sent++
  s.latencies.push(reply.ms)
  if (cls === 'dpop_replay' && reply.status === 200) acceptedReplays++
  if (reply.status === 503 && inOutageWindow(reply) && cls !== 'no_credentials' &&
      errorCode(reply.body) === 'temporarily_unavailable' && typeof reply.headers['retry-after'] === 'string') {
    s.outage503++
    first503 ??= reply.startS
    last503 = reply.endS
    return false
  }
  if (reply.status >= 500) fivexxOutsideOutage++
  const why = mismatch(cls, reply)
  if (why === undefined) {
    s.asExpected++
    return true
  }
  s.unexpected.set(why, (s.unexpected.get(why) ?? 0) + 1)
  if (unexpectedSamples.length < 20) unexpectedSamples.push(`${reply.startS.toFixed(1)} s ${cls}: ${why} ${reply.body.slice(0, 200)}`)
  return false
}

// ---------------------------------------------------------------- HTTP

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY + 2 })
let port = 0
let started = 0
const elapsedS = (): number => (performance.now() - started) / 1000

async function send (path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const startS = elapsedS()
  const t0 = performance.now()
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers, agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const ms = performance.now() - t0
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), startS, endS: elapsedS(), ms })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('request timed out after 30 s')))
    req.on('error', reject)
    req.end()
  })
}

// ---------------------------------------------------------------- credentials

interface DpopClient { key: DpopKey, token: string, nonce: string | undefined, lastSuccessS: number }

class Credentials {
  bearerPool: string[] = []
  expiredPool: string[] = []
  clients: DpopClient[] = []
  recentProofs: Array<{ token: string, proof: string }> = []
  #renewedAt = -Infinity

  constructor (readonly issuer: TestIssuer, readonly foreign: SigningKey) {}

  get url (): string { return `http://127.0.0.1:${port}/soak/private` }

  /** Pools renewed every minute: tokens get reused (token-cache hits) as well as freshly minted. */
  async renew (): Promise<void> {
    if (elapsedS() - this.#renewedAt < 60) return
    this.#renewedAt = elapsedS()
    const now = Math.floor(Date.now() / 1000)
    this.bearerPool = await Promise.all(Array.from({ length: 8 }, async (_, i) => await this.issuer.token({ sub: `pooled-${i}` })))
    this.expiredPool = await Promise.all(Array.from({ length: 4 }, async (_, i) => await this.issuer.token({ sub: `expired-${i}`, iat: now - 3600, exp: now - 120 })))
    if (this.clients.length === 0) {
      this.clients = await Promise.all(Array.from({ length: 4 }, async () => {
        const key = await dpopKey()
        return { key, token: '', nonce: undefined, lastSuccessS: 0 }
      }))
    }
    for (const client of this.clients) client.token = await this.issuer.token({ sub: 'dpop-client' }, { dpopKey: client.key, expiresIn: 3600 })
  }

  async bearer (): Promise<string> {
    // Half freshly minted (a full verification each), half reused from the pool (cache hits).
    if (Math.random() < 0.5) return await this.issuer.token({ sub: randomUUID() })
    return pick(this.bearerPool)
  }

  async badSignature (): Promise<string> {
    // The issuer's own kid, signed by a key it never published.
    return await this.issuer.token({}, { signingKey: this.foreign.privateKey, header: { kid: this.issuer.currentKey.kid } })
  }

  async unknownKid (): Promise<string> {
    return await this.issuer.token({}, { signingKey: this.foreign.privateKey, header: { kid: `unknown-${randomUUID()}` } })
  }
}

function pick<T> (list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)] as T
}

function choose (): Scenario {
  let r = Math.random() * WEIGHT_SUM
  for (const [scenario, weight] of WEIGHTS) {
    r -= weight
    if (r < 0) return scenario
  }
  return 'no_credentials'
}

async function dpopRequest (client: { key: DpopKey, token: string }, nonce: string | undefined, creds: Credentials): Promise<{ reply: Reply, token: string, proof: string }> {
  // The pools are renewed concurrently: read the token once, so the proof's ath and the header agree.
  const token = client.token
  const dpop = await proof({ key: client.key, method: 'GET', url: creds.url, accessToken: token, nonce })
  return { reply: await send('/soak/private', { authorization: `DPoP ${token}`, dpop }), token, proof: dpop }
}

async function scenario (name: Scenario, creds: Credentials): Promise<void> {
  switch (name) {
    case 'bearer_valid':
      record(name, await send('/soak/private', { authorization: `Bearer ${await creds.bearer()}` }))
      return
    case 'expired':
      record(name, await send('/soak/private', { authorization: `Bearer ${pick(creds.expiredPool)}` }))
      return
    case 'bad_signature':
      record(name, await send('/soak/private', { authorization: `Bearer ${await creds.badSignature()}` }))
      return
    case 'unknown_kid':
      record(name, await send('/soak/private', { authorization: `Bearer ${await creds.unknownKid()}` }))
      return
    case 'no_credentials':
      record(name, await send('/soak/private'))
      return
    case 'dpop_valid': {
      const client = pick(creds.clients)
      const had = client.nonce
      const { reply, token, proof: sent } = await dpopRequest(client, client.nonce, creds)
      const nonce = reply.headers['dpop-nonce']
      if (typeof nonce === 'string') client.nonce = nonce
      // A client silent for longer than a nonce window (all its requests met the outage) holds a
      // stale nonce: being asked for a new one is then correct, and it retries like a client would.
      // A client that has no nonce yet (its first request) is asked for one as well.
      if (reply.status === 401 && errorCode(reply.body) === 'use_dpop_nonce' && (had === undefined || reply.startS - client.lastSuccessS > NONCE_WINDOW_S)) {
        record('dpop_nonce_challenge', reply)
        const retry = await dpopRequest(client, client.nonce, creds)
        if (record('dpop_nonce_retry', retry.reply)) client.lastSuccessS = retry.reply.endS
        return
      }
      if (record(name, reply)) {
        client.lastSuccessS = reply.endS
        creds.recentProofs.push({ token, proof: sent })
        if (creds.recentProofs.length > 16) creds.recentProofs.shift()
      }
      return
    }
    case 'dpop_nonce': {
      // A new client: no nonce yet, so it is asked for one, then retries with it.
      const key = await dpopKey()
      const client = { key, token: await creds.issuer.token({ sub: 'new-dpop-client' }, { dpopKey: key }) }
      const first = await dpopRequest(client, undefined, creds)
      record('dpop_nonce_challenge', first.reply)
      const nonce = first.reply.headers['dpop-nonce']
      if (typeof nonce !== 'string') return
      record('dpop_nonce_retry', (await dpopRequest(client, nonce, creds)).reply)
      return
    }
    case 'dpop_replay': {
      const used = creds.recentProofs.shift()
      if (used === undefined) return
      record(name, await send('/soak/private', { authorization: `DPoP ${used.token}`, dpop: used.proof }))
    }
  }
}

// ---------------------------------------------------------------- server and memory

interface MemorySample { minute: number, atS: number, rssMiB: number, heapUsedMiB: number }

const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10

async function memory (minute: number): Promise<MemorySample> {
  const reply = await send('/soak/memory')
  const usage = JSON.parse(reply.body) as { rss: number, heapUsed: number }
  return { minute, atS: Math.round(elapsedS()), rssMiB: mib(usage.rss), heapUsedMiB: mib(usage.heapUsed) }
}

async function startServer (env: Record<string, string>): Promise<{ child: ChildProcess, port: number, errorLines: () => number, stderr: () => string }> {
  const file = fileURLToPath(new URL('./soak-server.js', import.meta.url))
  const child = spawn(process.execPath, ['--expose-gc', file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let errorLines = 0
  let tail = ''
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail = (tail + line + '\n').slice(-4000)
    errorLines++
  })
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`soak server did not start: ${tail}`)), 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`soak server exited with ${String(code)}: ${tail}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const { listening } = JSON.parse(line) as { listening?: number }
        if (typeof listening === 'number') {
          clearTimeout(timer)
          resolve(listening)
        }
      } catch {}
    })
  })
  return { child, port: listening, errorLines: () => errorLines, stderr: () => tail }
}

// ---------------------------------------------------------------- report

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

const round = (ms: number): number => Math.round(ms * 10) / 10
const signed = (mib: number): string => `${mib >= 0 ? '+' : ''}${Math.round(mib * 10) / 10}`

// ---------------------------------------------------------------- main

async function main (): Promise<number> {
  let redis: TestRedis | undefined
  let issuer: TestIssuer | undefined
  let server: Awaited<ReturnType<typeof startServer>> | undefined
  try {
    redis = await startRedis()
    issuer = await createTestIssuer({ audience: AUDIENCE })
    const prefix = `fastify-auth0-api:soak:${process.pid}:${Date.now()}:`
    server = await startServer({
      SOAK_ISSUER: issuer.issuerBaseURL,
      SOAK_AUDIENCE: AUDIENCE,
      SOAK_REDIS_URL: redis.url,
      SOAK_REDIS_PREFIX: prefix,
      SOAK_CACHE_TTL: String(CACHE_TTL_S),
      SOAK_STALE_IF_ERROR: String(STALE_S),
      SOAK_NONCE_WINDOW: String(NONCE_WINDOW_S)
    })
    port = server.port
    const serverDied = new Promise<never>((_resolve, reject) => server?.child.once('exit', (code) => reject(new Error(`soak server exited with ${String(code)} during the run: ${server?.stderr() ?? ''}`))))
    serverDied.catch(() => {})

    const creds = new Credentials(issuer, await issuer.foreignKey())
    console.log(`soak: ${DURATION_S} s at ${RATE} req/s, ${CONCURRENCY} in flight, outage ${OUTAGE_START_S.toFixed(0)}–${OUTAGE_END_S.toFixed(0)} s; ` +
      `cache ttl ${CACHE_TTL_S} s + staleIfError ${STALE_S} s; nonce window ${NONCE_WINDOW_S} s; server pid ${String(server.child.pid)}`)

    started = performance.now()
    await creds.renew()
    // Warm-up (not counted): JIT, first key fetch, Redis connections; the start figure comes after it.
    for (let i = 0; i < 50; i++) await send('/soak/private', { authorization: `Bearer ${pick(creds.bearerPool)}` })
    const samples: MemorySample[] = [await memory(0)]
    // The clock of the run (outage window, minutes) starts after the warm-up.
    started = performance.now()
    ;(samples[0] as MemorySample).atS = 0
    console.log(`soak: start RSS ${samples[0]?.rssMiB ?? 0} MiB`)

    let sent = 0
    let nextSlot = performance.now()
    let outage: 'before' | 'down' | 'after' = 'before'
    const deadline = performance.now() + DURATION_S * 1000
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline && sent < MAX_REQUESTS) {
        const wait = nextSlot - performance.now()
        nextSlot = Math.max(nextSlot, performance.now()) + 1000 / RATE
        if (wait > 0) await sleep(wait)
        if (performance.now() >= deadline) break
        sent++
        await scenario(choose(), creds)
      }
    }
    const control = async (): Promise<void> => {
      let minute = 1
      while (performance.now() < deadline) {
        await sleep(250)
        const t = elapsedS()
        if (outage === 'before' && t >= OUTAGE_START_S) {
          outage = 'down'
          issuer?.outage({ discovery: 'status-503', jwks: 'status-503' })
          console.log(`soak: ${t.toFixed(0)} s issuer outage starts (discovery and JWKS answer 503)`)
        }
        if (outage === 'down' && t >= OUTAGE_END_S) {
          outage = 'after'
          issuer?.restore()
          console.log(`soak: ${t.toFixed(0)} s issuer restored`)
        }
        await creds.renew()
        if (t >= minute * 60 && t < DURATION_S - 5) {
          const sample = await memory(minute++)
          samples.push(sample)
          console.log(`soak: minute ${sample.minute}: RSS ${sample.rssMiB} MiB, heap ${sample.heapUsedMiB} MiB, ${sent} requests`)
        }
      }
    }
    await Promise.race([Promise.all([control(), ...Array.from({ length: CONCURRENCY }, worker)]), serverDied])
    const runS = elapsedS()
    samples.push({ ...(await memory(samples.length)), minute: Math.round(runS / 6) / 10 })
    const end = samples[samples.length - 1] as MemorySample
    const start = samples[0] as MemorySample
    // The start figure still holds the warm-up's garbage that the allocator has not returned yet;
    // minute 1 is the first steady-state figure, reported beside it.
    const minute1 = samples[1] ?? start

    // ---- report
    const rows: string[] = ['| class | sent | expected | as expected | outage 503 | unexpected | p50 ms | p99 ms | max ms |', '| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |']
    const all: number[] = []
    let unexpectedTotal = 0
    const perClass: Record<string, unknown> = {}
    for (const [name, s] of stats) {
      const sorted = [...s.latencies].sort((a, b) => a - b)
      all.push(...sorted)
      const unexpected = [...s.unexpected].map(([why, n]) => `${n} × ${why}`).join(', ')
      unexpectedTotal += [...s.unexpected.values()].reduce((a, b) => a + b, 0)
      rows.push(`| ${name} | ${s.sent} | ${EXPECTED[name].describe} | ${s.asExpected} | ${s.outage503} | ${unexpected === '' ? '0' : unexpected} | ${round(percentile(sorted, 50))} | ${round(percentile(sorted, 99))} | ${round(sorted.at(-1) ?? 0)} |`)
      perClass[name] = { sent: s.sent, expected: EXPECTED[name].describe, asExpected: s.asExpected, outage503: s.outage503, unexpected: Object.fromEntries(s.unexpected), p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0) }
    }
    all.sort((a, b) => a - b)
    const total = [...stats.values()].reduce((n, s) => n + s.sent, 0)
    const outage503 = [...stats.values()].reduce((n, s) => n + s.outage503, 0)
    const errorLogLines = server.errorLines()
    rows.push(`| **all** | ${total} | | ${total - unexpectedTotal - outage503} | ${outage503} | ${unexpectedTotal} | ${round(percentile(all, 50))} | ${round(percentile(all, 99))} | ${round(all.at(-1) ?? 0)} |`)
    const memoryRows = ['| minute | at s | RSS MiB | heap used MiB |', '| ---: | ---: | ---: | ---: |', ...samples.map((m) => `| ${m.minute} | ${m.atS} | ${m.rssMiB} | ${m.heapUsedMiB} |`)]
    const rssDelta = Math.round((end.rssMiB - start.rssMiB) * 10) / 10
    const checks: Array<[string, boolean]> = [
      ['every reply as expected (503 only in the outage window)', unexpectedTotal === 0],
      ['0 × 5xx outside the outage', fivexxOutsideOutage === 0],
      ['0 accepted replays', acceptedReplays === 0],
      ['no error-level log line from the server', errorLogLines === 0],
      ['every class exercised', [...stats.values()].every((s) => s.sent > 0)]
    ]
    const outageLine = first503 === undefined
      ? 'outage: no 503 (the cached keys covered the whole outage)'
      : `outage ${OUTAGE_START_S.toFixed(0)}–${OUTAGE_END_S.toFixed(0)} s: first 503 at ${first503.toFixed(0)} s (+${(first503 - OUTAGE_START_S).toFixed(0)} s), ` +
        `${outage503} × 503 with Retry-After, the last at ${(last503 ?? 0).toFixed(0)} s (restore + ${((last503 ?? 0) - OUTAGE_END_S).toFixed(0)} s)`
    const report = [
      `## Soak run ${new Date().toISOString()}`, '',
      `${runS.toFixed(0)} s, ${total} requests (${(total / runS).toFixed(1)} req/s, ${CONCURRENCY} in flight), Node ${process.version}; ${outageLine}.`, '',
      ...rows, '',
      ...memoryRows, '',
      `RSS end − start: ${signed(rssDelta)} MiB (${start.rssMiB} → ${end.rssMiB} MiB); end − minute 1: ${signed(end.rssMiB - minute1.rssMiB)} MiB; ` +
        `heap used ${start.heapUsedMiB} → ${end.heapUsedMiB} MiB (end − minute 1: ${signed(end.heapUsedMiB - minute1.heapUsedMiB)} MiB).`, '',
      ...checks.map(([name, ok]) => `- ${ok ? 'ok' : 'FAILED'}: ${name}`),
      ...(unexpectedSamples.length > 0 ? ['', 'First unexpected replies:', ...unexpectedSamples.map((s) => `- ${s}`)] : []),
      ...(errorLogLines > 0 ? ['', 'Server stderr (tail):', '```', server.stderr(), '```'] : [])
    ].join('\n')
    console.log('\n' + report)
    const resultsDir = fileURLToPath(new URL('../../results/', import.meta.url))
    mkdirSync(resultsDir, { recursive: true })
    const file = `${resultsDir}soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
    writeFileSync(file, JSON.stringify({ durationS: runS, rate: RATE, concurrency: CONCURRENCY, outage: { startS: OUTAGE_START_S, endS: OUTAGE_END_S, first503, last503, count: outage503 }, perClass, p50: percentile(all, 50), p99: percentile(all, 99), memory: samples, rssDeltaMiB: rssDelta, rssDeltaFromMinute1MiB: Math.round((end.rssMiB - minute1.rssMiB) * 10) / 10, acceptedReplays, fivexxOutsideOutage, errorLogLines, checks: Object.fromEntries(checks), report }, null, 2))
    console.log(`\nsoak: results in ${file}`)
    return checks.every(([, ok]) => ok) ? 0 : 1
  } finally {
    agent.destroy()
    if (server !== undefined && server.child.exitCode === null) {
      const exited = new Promise((resolve) => server?.child.once('exit', resolve))
      server.child.kill('SIGTERM')
      await Promise.race([exited, sleep(5000)])
      if (server.child.exitCode === null) server.child.kill('SIGKILL')
    }
    await issuer?.close()
    await redis?.close()
  }
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(`soak: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  return 2
})
