/** Systems, scenarios and the knobs of a run (environment variables, see bench/README.md). */

export type Role = 'ceiling' | 'ours' | 'peer' | 'reference'

export interface SystemDef {
  name: string
  /** Server entry point, relative to this file's build output. */
  file: string
  role: Role
  /** Verifies DPoP proofs (RFC 9449), so it takes part in S5. */
  dpop: boolean
  /**
   * The tokens it verifies, when not RS256 from the issuer's JWKS: HS256 signed with the API's
   * secret, or the usual RS256 token inside a JWE for the API's key. Only S1–S4 apply.
   */
  tokens?: TokenKind
}

export type TokenKind = 'hs256' | 'jwe'

/** Interleaving order within a round. */
export const SYSTEMS: SystemDef[] = [
  { name: 'bare', file: 'servers/bare.js', role: 'ceiling', dpop: false },
  { name: 'ours', file: 'servers/ours.js', role: 'ours', dpop: true },
  // Only with BENCH_BASELINE=<a built checkout>: the plugin before, in the same run.
  { name: 'ours-before', file: 'servers/ours-before.js', role: 'ours', dpop: true },
  // The plugin with an HS256 secret, and with encrypted tokens (issue 11): S1–S4 next to RS256.
  { name: 'ours-hs256', file: 'servers/ours-hs256.js', role: 'ours', dpop: false, tokens: 'hs256' },
  { name: 'ours-jwe', file: 'servers/ours-jwe.js', role: 'ours', dpop: false, tokens: 'jwe' },
  { name: 'fastify-jwt+get-jwks', file: 'servers/fastify-jwt-get-jwks.js', role: 'peer', dpop: false },
  { name: 'fastify-auth0-verify', file: 'servers/fastify-auth0-verify.js', role: 'peer', dpop: false },
  { name: 'express-oauth2-jwt-bearer', file: 'servers/express-oauth2-jwt-bearer.js', role: 'peer', dpop: true },
  { name: 'express-bare', file: 'servers/express-bare.js', role: 'reference', dpop: false }
]

export const isAuth = (s: SystemDef): boolean => s.role === 'ours' || s.role === 'peer'
/** S6–S8 count JWKS fetches and key churn: RS256 from the issuer's JWKS only. */
const jwksAuth = (s: SystemDef): boolean => isAuth(s) && s.tokens === undefined

export type ScenarioId = 'S1' | 'S2' | 'S3' | 'S4' | 'S5' | 'S6' | 'S7' | 'S8'

export interface ScenarioDef {
  id: ScenarioId
  title: string
  kind: 'load' | 'cold' | 'unknown-kid' | 'memory'
  /** What an authenticating system must answer under load. */
  expect?: 'ok' | 'reject'
  applies: (s: SystemDef) => boolean
}

export const SCENARIOS: ScenarioDef[] = [
  { id: 'S1', title: 'same valid token on every request', kind: 'load', expect: 'ok', applies: () => true },
  { id: 'S2', title: 'a distinct valid token per request', kind: 'load', expect: 'ok', applies: () => true },
  { id: 'S3', title: 'bad signature (known kid, foreign key)', kind: 'load', expect: 'reject', applies: () => true },
  { id: 'S4', title: 'no Authorization header', kind: 'load', expect: 'reject', applies: () => true },
  { id: 'S5', title: 'DPoP, a fresh proof per request', kind: 'load', expect: 'ok', applies: (s) => s.dpop || !isAuth(s) },
  { id: 'S6', title: 'cold server, concurrent first requests', kind: 'cold', applies: jwksAuth },
  { id: 'S7', title: 'tokens with unknown kids, warm server', kind: 'unknown-kid', applies: jwksAuth },
  // Minutes per system (1M RS256 signatures in the driver): run only when asked for.
  { id: 'S8', title: 'RSS after many distinct valid tokens (BENCH_MEMORY_TOKENS, default 1M)', kind: 'memory', applies: jwksAuth }
]

/** Scenarios of a run when BENCH_SCENARIOS is not set. */
export const DEFAULT_SCENARIOS: ScenarioId[] = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7']

export interface Config {
  durationS: number
  warmupS: number
  rounds: number
  connections: number
  systems: string[]
  scenarios: ScenarioId[]
  /** S2: distinct tokens minted before S2; 0 = sized from S1's throughput. */
  poolSize: number
  /** S5: proofs per pool; 0 = sized from S1's throughput. */
  dpopPoolSize: number
  /** S6: concurrent requests on the cold server. */
  coldRequests: number
  /** S7: tokens with unknown kids, and how many in flight. */
  unknownKids: number
  unknownKidConcurrency: number
  /** S8: distinct valid tokens sent to one process. */
  memoryTokens: number
  startTimeoutMs: number
  /** Before each measurement, wait up to this long for other processes to leave the cores. */
  quietWaitS: number
  /** Re-measurements of a window in which other processes took > 25% of a core. */
  retries: number
  /** Run load scenarios' servers under `node --cpu-prof` and summarise where the time went. */
  cpuProf: boolean
  quick: boolean
}

function num (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`)
  return value
}

function list (name: string, all: string[], defaults = all): string[] {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return defaults
  const wanted = raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const unknown = wanted.filter((w) => !all.includes(w))
  if (unknown.length > 0) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`)
  return wanted
}

export function readConfig (): Config {
  const quick = process.env.BENCH_QUICK === '1'
  const config: Config = {
    durationS: num('BENCH_DURATION', quick ? 2 : 5),
    warmupS: num('BENCH_WARMUP', quick ? 0.5 : 1),
    rounds: Math.max(1, Math.round(num('BENCH_ROUNDS', quick ? 1 : 3))),
    connections: Math.max(1, Math.round(num('BENCH_CONNECTIONS', 10))),
    systems: list('BENCH_SYSTEMS', SYSTEMS.filter((s) => s.name !== 'ours-before' || process.env.BENCH_BASELINE !== undefined).map((s) => s.name)),
    scenarios: list('BENCH_SCENARIOS', SCENARIOS.map((s) => s.id), DEFAULT_SCENARIOS) as ScenarioId[],
    poolSize: Math.round(num('BENCH_POOL', quick ? 10_000 : 0)),
    dpopPoolSize: Math.round(num('BENCH_DPOP_POOL', 0)),
    coldRequests: Math.max(1, Math.round(num('BENCH_COLD_REQUESTS', 200))),
    unknownKids: Math.max(1, Math.round(num('BENCH_UNKNOWN_KIDS', 1000))),
    unknownKidConcurrency: Math.max(1, Math.round(num('BENCH_UNKNOWN_KID_CONCURRENCY', 10))),
    memoryTokens: Math.max(1, Math.round(num('BENCH_MEMORY_TOKENS', 1_000_000))),
    startTimeoutMs: Math.round(num('BENCH_START_TIMEOUT_MS', 30_000)),
    quietWaitS: num('BENCH_QUIET_WAIT', quick ? 1 : 15),
    retries: Math.round(num('BENCH_RETRIES', quick ? 0 : 2)),
    cpuProf: process.env.BENCH_CPU_PROF === '1',
    quick
  }
  if (config.durationS <= 0) throw new Error('BENCH_DURATION must be > 0')
  return config
}
