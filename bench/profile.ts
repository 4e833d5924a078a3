/**
 * Where a server's CPU time went, from the `.cpuprofile` that `node --cpu-prof` writes when the
 * process exits (BENCH_CPU_PROF=1). Self time only, grouped by function and by package.
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

/** `node_modules/<pkg>` (scoped too), `lib/…` of this repo, `node:…` or a V8 pseudo-frame. */
function owner (url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm !== null) return nm[1]!
  if (url.startsWith('node:')) return 'node:internal'
  const lib = /\/(lib\/[^/]+(?:\/[^/]+)?)$/.exec(url)
  if (lib !== null) return lib[1]!.replace(/\.js$/, '')
  return url.replace(/^.*\//, '')
}

export interface ProfileSummary {
  totalMs: number
  byPackage: Array<{ owner: string, ms: number, share: number }>
  topFunctions: Array<{ frame: string, ms: number, share: number }>
}

export function summarizeProfile (file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const selfUs = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  // Each sample's time is the delta to the next one.
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? 0))
  }
  const byOwner = new Map<string, number>()
  const byFrame = new Map<string, number>()
  let total = 0
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0
    const { functionName, url, lineNumber } = node.callFrame
    if (us === 0 || functionName === '(idle)') continue
    total += us
    const who = owner(url, functionName)
    byOwner.set(who, (byOwner.get(who) ?? 0) + us)
    const base = url.replace(/^.*\//, '')
    const where = url === '' || url.startsWith('node:') ? url : who.startsWith('lib/') ? `${who}.js` : who === base ? base : `${who}/${base}`
    const frame = `${functionName === '' ? '(anonymous)' : functionName}${where === '' ? '' : ` ${where}:${lineNumber + 1}`}`
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + us)
  }
  const rank = <K extends string>(m: Map<string, number>, key: K): Array<Record<K, string> & { ms: number, share: number }> =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([k, us]) => ({ [key]: k, ms: us / 1000, share: us / total }) as Record<K, string> & { ms: number, share: number })
  return { totalMs: total / 1000, byPackage: rank(byOwner, 'owner'), topFunctions: rank(byFrame, 'frame') }
}

export function formatProfile (label: string, s: ProfileSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`
  return [
    `#### ${label}: ${s.totalMs.toFixed(0)} ms of CPU sampled (idle excluded)`,
    '',
    'by package: ' + s.byPackage.map((p) => `${p.owner} ${pct(p.share)}`).join(', '),
    '',
    '| self time | function |',
    '| ---: | --- |',
    ...s.topFunctions.map((f) => `| ${pct(f.share)} | \`${f.frame}\` |`)
  ].join('\n')
}
