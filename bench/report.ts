/** Medians, ratios and the markdown report. Pure functions of the measurements. */
import { SCENARIOS, SYSTEMS, isAuth, type ScenarioDef, type ScenarioId, type SystemDef } from './config.js'

export interface LoadMeasurement {
  scenario: ScenarioId
  system: string
  round: number
  rps: number
  p50Ms: number
  p99Ms: number
  responses: number
  durationS: number
  statuses: Record<string, number>
  errors: number
  timeouts: number
  /** Server CPU time over wall time during the measured window (1 = one core busy). */
  serverCpu: number
  /** Server CPU seconds over responses in the measured window, µs: cost per request even when the driver, not the server, is the limit. */
  serverCpuUsPerReq: number
  /** Driver (autocannon) CPU over wall time: near 1 means the load generator was the limit. */
  driverCpu: number
  /** Machine CPU spent on other processes (not server, not driver) over wall time. */
  otherCpu: number
  /** CPU stolen by the hypervisor over wall time. */
  stealCpu: number
  rssStartMiB: number
  hwmMiB: number
  /** Pool entries sent to this process, and whether some were sent twice. */
  poolUsed?: number
  poolWrapped?: boolean
}

export interface FetchMeasurement {
  scenario: 'S6' | 'S7'
  system: string
  round: number
  discovery: number
  jwks: number
  statuses: Record<string, number>
  elapsedMs: number
  hwmMiB: number
}

export interface MemoryMeasurement {
  scenario: 'S8'
  system: string
  round: number
  tokens: number
  /** VmRSS after the warm-up requests, before the first distinct token. */
  rssStartMiB: number
  rssEndMiB: number
  hwmMiB: number
  /** VmRSS every 100 000 tokens. */
  samples: Array<{ tokens: number, rssMiB: number }>
  statuses: Record<string, number>
  elapsedMs: number
}

export function memoryGrowthTable (ms: MemoryMeasurement[]): string {
  if (ms.length === 0) return ''
  const lines = [
    '### S8 — RSS after many distinct valid tokens',
    '',
    'Each token is new to the server (distinct `jti`), valid, sent over 10 keep-alive connections after 3 warm-up requests. RSS is VmRSS of the server process.',
    '',
    '| system | tokens | RSS before MiB | RSS after MiB | growth MiB | peak (VmHWM) MiB | responses | elapsed s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |'
  ]
  for (const m of ms) {
    const status = Object.entries(m.statuses).sort().map(([k, n]) => `${k} ×${n}${k !== '200' ? ' ⚠' : ''}`).join(', ')
    lines.push(`| ${m.system} | ${m.tokens.toLocaleString('en-US')} | ${m.rssStartMiB.toFixed(0)} | ${m.rssEndMiB.toFixed(0)} | ${(m.rssEndMiB - m.rssStartMiB).toFixed(0)} | ${m.hwmMiB.toFixed(0)} | ${status} | ${(m.elapsedMs / 1000).toFixed(0)} |`)
  }
  return lines.join('\n')
}

export interface SystemStatus {
  name: string
  state: 'ok' | 'unavailable' | 'misconfigured'
  detail?: string
  /** For systems that claim DPoP support: whether the DPoP checks passed. */
  dpop?: string
  checks?: Array<{ check: string, status: number | string, expected: string, ok: boolean }>
}

export interface Summary { median: number, min: number, max: number, n: number }

export function summarize (values: number[]): Summary {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 }
  const mid = Math.floor(v.length / 2)
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length }
}

export interface LoadRow {
  system: string
  role: string
  rps: Summary
  p99: Summary
  rpsVsBare: number
  rpsVsBestPeer: number
  p99VsBare: number
  p99VsBestPeer: number
  /** 1e6/rps(system) − 1e6/rps(bare): µs of extra work per request. */
  authUs: number
  /** CPU µs/req(system) − CPU µs/req(bare): the same cost from the server's CPU time, which
   * other processes on the machine disturb far less than they disturb req/s. */
  authCpuUs: number
  serverCpu: number
  serverCpuUsPerReq: number
  otherCpu: number
  statuses: Record<string, number>
  errors: number
  outcome: string
  outcomeOk: boolean
  poolWrapped: boolean
}

export interface ScenarioSummary {
  scenario: ScenarioId
  title: string
  bestPeer?: string
  bestPeerP99?: string
  rows: LoadRow[]
}

function describeOutcome (scenario: ScenarioDef, system: SystemDef, statuses: Record<string, number>, errors: number, timeouts: number): { text: string, ok: boolean } {
  const total = Object.values(statuses).reduce((a, b) => a + b, 0)
  const expectReject = scenario.expect === 'reject' && isAuth(system)
  const parts: string[] = []
  let ok = total > 0 && errors === 0 && timeouts === 0
  for (const [code, n] of Object.entries(statuses).sort()) {
    const is2xx = code.startsWith('2')
    // Rejections are counted as the expected outcome; anything but 401 is still called out.
    const fine = expectReject ? code === '401' : is2xx
    if (!fine) ok = false
    parts.push(`${code}${total > 0 && n !== total ? ` ${(100 * n / total).toFixed(1)}%` : ''}`)
  }
  if (errors > 0) parts.push(`errors ${errors}`)
  if (timeouts > 0) parts.push(`timeouts ${timeouts}`)
  return { text: parts.join(', ') + (ok ? '' : ' ⚠'), ok }
}

const addStatuses = (into: Record<string, number>, from: Record<string, number>): void => {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n
}

export function summarizeLoad (scenario: ScenarioDef, measurements: LoadMeasurement[]): ScenarioSummary {
  const mine = measurements.filter((m) => m.scenario === scenario.id)
  const bySystem = SYSTEMS.map((def) => ({ def, ms: mine.filter((m) => m.system === def.name) })).filter((x) => x.ms.length > 0)
  const base = bySystem.map(({ def, ms }) => {
    const statuses: Record<string, number> = {}
    for (const m of ms) addStatuses(statuses, m.statuses)
    const errors = ms.reduce((a, m) => a + m.errors, 0)
    const timeouts = ms.reduce((a, m) => a + m.timeouts, 0)
    return {
      def,
      rps: summarize(ms.map((m) => m.rps)),
      p99: summarize(ms.map((m) => m.p99Ms)),
      serverCpu: summarize(ms.map((m) => m.serverCpu)).median,
      serverCpuUsPerReq: summarize(ms.map((m) => m.serverCpuUsPerReq)).median,
      otherCpu: summarize(ms.map((m) => m.otherCpu)).median,
      statuses,
      errors,
      outcome: describeOutcome(scenario, def, statuses, errors, timeouts),
      poolWrapped: ms.some((m) => m.poolWrapped === true)
    }
  })
  const bare = base.find((b) => b.def.role === 'ceiling')
  const peers = base.filter((b) => b.def.role === 'peer')
  const bestPeer = peers.reduce<typeof peers[number] | undefined>((best, p) => best === undefined || p.rps.median > best.rps.median ? p : best, undefined)
  const bestPeerP99 = peers.reduce<typeof peers[number] | undefined>((best, p) => best === undefined || p.p99.median < best.p99.median ? p : best, undefined)
  const rows: LoadRow[] = base.map((b) => ({
    system: b.def.name,
    role: b.def.role,
    rps: b.rps,
    p99: b.p99,
    rpsVsBare: b.rps.median / (bare?.rps.median ?? NaN),
    rpsVsBestPeer: b.rps.median / (bestPeer?.rps.median ?? NaN),
    p99VsBare: b.p99.median / (bare?.p99.median ?? NaN),
    p99VsBestPeer: b.p99.median / (bestPeerP99?.p99.median ?? NaN),
    authUs: b.def.role === 'ceiling' ? 0 : 1e6 / b.rps.median - 1e6 / (bare?.rps.median ?? NaN),
    authCpuUs: b.def.role === 'ceiling' ? 0 : b.serverCpuUsPerReq - (bare?.serverCpuUsPerReq ?? NaN),
    serverCpu: b.serverCpu,
    serverCpuUsPerReq: b.serverCpuUsPerReq,
    otherCpu: b.otherCpu,
    statuses: b.statuses,
    errors: b.errors,
    outcome: b.outcome.text,
    outcomeOk: b.outcome.ok,
    poolWrapped: b.poolWrapped
  }))
  return { scenario: scenario.id, title: scenario.title, bestPeer: bestPeer?.def.name, bestPeerP99: bestPeerP99?.def.name, rows }
}

const fmtInt = (x: number): string => Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—'
const fmtMs = (x: number): string => Number.isFinite(x) ? x.toFixed(2) : '—'
const fmtX = (x: number): string => Number.isFinite(x) ? `${x.toFixed(2)}×` : '—'
const fmtUs = (x: number): string => Number.isFinite(x) ? x.toFixed(1) : '—'
const range = (s: Summary, f: (x: number) => string): string => s.n > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median)

export function loadTable (s: ScenarioSummary, rounds: number, raw?: { rs256: number, es256: number }): string {
  // auth CPU as a multiple of one raw signature check (RS256; the ES256 proof in S5).
  const rawUs = raw === undefined ? NaN : s.scenario === 'S5' ? raw.es256 : raw.rs256
  const lines = [
    `### ${s.scenario} — ${s.title}`,
    '',
    `best peer: ${s.bestPeer ?? '—'} (req/s), ${s.bestPeerP99 ?? '—'} (p99); ${rounds > 1 ? `median (min–max) of ${rounds} rounds` : 'one round'}; × raw: auth CPU µs/req ÷ one raw ${s.scenario === 'S5' ? 'ES256' : 'RS256'} \`crypto.verify\` (${fmtUs(rawUs)} µs in the driver)`,
    '',
    '| system | req/s | ×bare | ×best peer | p99 ms | p99 ×bare | p99 ×best peer | auth µs/req | server CPU | CPU µs/req | auth CPU µs/req | auth CPU × raw | responses |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
  ]
  for (const r of s.rows) {
    lines.push(`| ${r.system}${r.poolWrapped ? ' †' : ''} | ${range(r.rps, fmtInt)} | ${fmtX(r.rpsVsBare)} | ${fmtX(r.rpsVsBestPeer)} | ${range(r.p99, fmtMs)} | ${fmtX(r.p99VsBare)} | ${fmtX(r.p99VsBestPeer)} | ${r.role === 'ceiling' ? '—' : fmtUs(r.authUs)} | ${Number.isFinite(r.serverCpu) ? `${Math.round(r.serverCpu * 100)}%` : '—'} | ${fmtUs(r.serverCpuUsPerReq)} | ${r.role === 'ceiling' ? '—' : fmtUs(r.authCpuUs)} | ${r.role === 'ceiling' ? '—' : fmtX(r.authCpuUs / rawUs)} | ${r.outcome} |`)
  }
  const eb = s.rows.find((r) => r.system === 'express-bare')
  const eo = s.rows.find((r) => r.system === 'express-oauth2-jwt-bearer')
  if (eb !== undefined && eo !== undefined) {
    lines.push('', `express-oauth2-jwt-bearer against express-bare (auth alone, Express's own cost removed): ${fmtUs(1e6 / eo.rps.median - 1e6 / eb.rps.median)} µs/req from req/s, ${fmtUs(eo.serverCpuUsPerReq - eb.serverCpuUsPerReq)} µs/req from CPU time, ${fmtX(eo.rps.median / eb.rps.median)} req/s`)
  }
  const other = Math.max(...s.rows.map((r) => r.otherCpu).filter(Number.isFinite))
  if (other > 0.1) {
    lines.push('', `⚠ other processes used up to ${Math.round(other * 100)}% of a core (median per system) while this scenario ran: its figures are contaminated; rerun on a quiet machine.`)
  }
  if (s.rows.some((r) => r.poolWrapped)) {
    lines.push('', '† the pool ran out within one server process and was reused from its start: raise BENCH_POOL / BENCH_DPOP_POOL for this rate.')
  }
  return lines.join('\n')
}

const fmtCounts = (xs: number[]): string => xs.length === 0 ? '—' : xs.every((x) => x === xs[0]) ? String(xs[0]) : xs.join(' / ')

export function fetchTable (scenario: 'S6' | 'S7', ms: FetchMeasurement[], description: string): string {
  const def = SCENARIOS.find((s) => s.id === scenario)!
  const lines = [
    `### ${scenario} — ${def.title}`,
    '',
    description,
    '',
    '| system | discovery fetches | JWKS fetches | responses | elapsed ms | peak RSS MiB |',
    '| --- | ---: | ---: | --- | ---: | ---: |'
  ]
  for (const sys of SYSTEMS) {
    const mine = ms.filter((m) => m.scenario === scenario && m.system === sys.name)
    if (mine.length === 0) continue
    const statuses: Record<string, number> = {}
    for (const m of mine) addStatuses(statuses, m.statuses)
    // S6 sends valid tokens, S7 tokens no key can verify: anything else is called out.
    const expected = scenario === 'S6' ? '200' : '401'
    const status = Object.entries(statuses).sort().map(([k, n]) => `${k} ×${n}${k !== expected ? ' ⚠' : ''}`).join(', ')
    lines.push(`| ${sys.name} | ${fmtCounts(mine.map((m) => m.discovery))} | ${fmtCounts(mine.map((m) => m.jwks))} | ${status} | ${range(summarize(mine.map((m) => m.elapsedMs)), fmtInt)} | ${range(summarize(mine.map((m) => m.hwmMiB)), (x) => x.toFixed(0))} |`)
  }
  return lines.join('\n')
}

export function memoryTable (load: LoadMeasurement[], fetches: FetchMeasurement[]): string {
  const ids = SCENARIOS.map((s) => s.id).filter((id) => load.some((m) => m.scenario === id) || fetches.some((m) => m.scenario === id))
  if (ids.length === 0) return ''
  const lines = [
    '### Peak RSS (VmHWM) of the server process, MiB, median over rounds',
    '',
    `| system | RSS at listen | ${ids.join(' | ')} |`,
    `| --- | ---: | ${ids.map(() => '---:').join(' | ')} |`
  ]
  for (const sys of SYSTEMS) {
    const mine = load.filter((m) => m.system === sys.name)
    const mineF = fetches.filter((m) => m.system === sys.name)
    if (mine.length === 0 && mineF.length === 0) continue
    const cells = ids.map((id) => {
      const values = [...mine.filter((m) => m.scenario === id).map((m) => m.hwmMiB), ...mineF.filter((m) => m.scenario === id).map((m) => m.hwmMiB)]
      return values.length === 0 ? '—' : summarize(values).median.toFixed(0)
    })
    lines.push(`| ${sys.name} | ${mine.length === 0 ? '—' : summarize(mine.map((m) => m.rssStartMiB)).median.toFixed(0)} | ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

export interface TargetRow { target: string, measured: string, met: boolean | undefined }

/** The issue's targets for this plugin, judged on this run's figures. */
export function targets (summaries: ScenarioSummary[], fetches: FetchMeasurement[], memory: MemoryMeasurement[], poolSize: number): TargetRow[] {
  const row = (id: ScenarioId): LoadRow | undefined => summaries.find((s) => s.scenario === id)?.rows.find((r) => r.system === 'ours')
  const out: TargetRow[] = []
  const s1 = row('S1')
  if (s1 !== undefined) out.push({ target: 'S1 ≥ 0.80× bare', measured: fmtX(s1.rpsVsBare), met: s1.rpsVsBare >= 0.8 && s1.outcomeOk })
  const s2 = row('S2')
  if (s2 !== undefined) out.push({ target: 'S2 auth ≤ 30 µs/req and ≥ 1.5× best peer', measured: `${fmtUs(s2.authUs)} µs (CPU ${fmtUs(s2.authCpuUs)} µs), ${fmtX(s2.rpsVsBestPeer)}`, met: s2.authUs <= 30 && s2.rpsVsBestPeer >= 1.5 && s2.outcomeOk })
  const s3 = row('S3')
  if (s3 !== undefined) out.push({ target: 'S3 ≥ 1.5× best peer', measured: fmtX(s3.rpsVsBestPeer), met: s3.rpsVsBestPeer >= 1.5 && s3.outcomeOk })
  const s4 = row('S4')
  if (s4 !== undefined) out.push({ target: 'S4 ≥ 0.90× bare', measured: fmtX(s4.rpsVsBare), met: s4.rpsVsBare >= 0.9 && s4.outcomeOk })
  const s5 = row('S5')
  if (s5 !== undefined) out.push({ target: 'S5 auth ≤ 100 µs/req (≥ 4× express-oauth2-jwt-bearer)', measured: `${fmtUs(s5.authUs)} µs (CPU ${fmtUs(s5.authCpuUs)} µs), ${fmtX(s5.rpsVsBestPeer)}`, met: s5.authUs <= 100 && s5.outcomeOk })
  const s6 = fetches.filter((m) => m.scenario === 'S6' && m.system === 'ours')
  if (s6.length > 0) out.push({ target: 'S6 exactly 1 discovery + 1 JWKS fetch', measured: `${fmtCounts(s6.map((m) => m.discovery))} + ${fmtCounts(s6.map((m) => m.jwks))}`, met: s6.every((m) => m.discovery === 1 && m.jwks === 1) })
  const s7 = fetches.filter((m) => m.scenario === 'S7' && m.system === 'ours')
  if (s7.length > 0) {
    // The cooldown is 30 s: a run that lasted longer may legitimately fetch once per window.
    out.push({ target: 'S7 ≤ 1 JWKS fetch per 30 s cooldown', measured: fmtCounts(s7.map((m) => m.jwks)), met: s7.every((m) => m.jwks <= Math.max(1, Math.ceil(m.elapsedMs / 30_000))) })
  }
  const s8 = memory.filter((m) => m.system === 'ours')
  if (s8.length > 0) {
    out.push({
      target: 'RSS after 1M distinct tokens within 64 MiB of start',
      measured: s8.map((m) => `+${(m.rssEndMiB - m.rssStartMiB).toFixed(0)} MiB after ${m.tokens.toLocaleString('en-US')} tokens`).join(', '),
      // Fewer tokens than the target names prove nothing either way.
      met: s8.some((m) => m.tokens < 1_000_000) ? undefined : s8.every((m) => m.rssEndMiB - m.rssStartMiB <= 64 && Object.keys(m.statuses).every((k) => k === '200'))
    })
  } else if (s2 !== undefined) {
    out.push({ target: 'RSS after 1M distinct tokens within 64 MiB of start', measured: `not measured: run with BENCH_SCENARIOS=S8 (S2 sends ≤ ${poolSize.toLocaleString('en-US')} distinct tokens per process)`, met: undefined })
  }
  return out
}

export function targetTable (rows: TargetRow[]): string {
  if (rows.length === 0) return ''
  return [
    '### Targets of issue 6 (this plugin)',
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.target} | ${r.measured} | ${r.met === undefined ? '—' : r.met ? 'yes' : '**no**'} |`)
  ].join('\n')
}
