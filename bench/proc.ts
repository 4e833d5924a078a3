/**
 * Server processes: start one system alone in a fresh process pinned to core 0, wait for it to
 * listen, read its memory and CPU counters from /proc, stop it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

export interface ServerProcess {
  readonly pid: number
  readonly child: ChildProcess
  /** Last lines of stderr, for the report when a system fails. */
  stderr: () => string
}

export class StartError extends Error {
  constructor (message: string, readonly stderr: string, readonly exitCode: number | null) {
    super(message)
  }
}

let tasksetAvailable: boolean | undefined
export function hasTaskset (): boolean {
  tasksetAvailable ??= spawnSync('taskset', ['-V']).status === 0
  return tasksetAvailable
}

/** Pins every thread of the driver (autocannon + issuer) to `cpu`, away from the servers. */
export function pinSelf (cpu: number): boolean {
  if (!hasTaskset()) return false
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)]).status === 0
}

export interface StartOptions {
  file: string
  env: Record<string, string>
  /** Core for the server; undefined: no pinning. */
  cpu: number | undefined
  timeoutMs: number
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[]
}

export async function startServer (opts: StartOptions): Promise<ServerProcess> {
  // taskset execs node, so the child's pid is the server's pid (what /proc is read for).
  const node = [...(opts.nodeArgs ?? []), opts.file]
  const [cmd, args] = opts.cpu !== undefined && hasTaskset()
    ? ['taskset', ['-c', String(opts.cpu), process.execPath, ...node]]
    : [process.execPath, node]
  const child = spawn(cmd, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => { tail = (tail + chunk).slice(-4000) })
  const stderr = (): string => tail.trim()

  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const fail = (message: string, code: number | null): void => {
      clearTimeout(timer)
      lines.close()
      child.kill('SIGKILL')
      reject(new StartError(message, stderr(), code))
    }
    const timer = setTimeout(() => fail(`did not listen within ${opts.timeoutMs} ms`, null), opts.timeoutMs)
    child.once('exit', (code) => {
      // Let the last stderr chunk arrive before reporting it.
      setImmediate(() => fail(`exited with code ${String(code)} before listening`, code))
    })
    child.once('error', (err) => fail(err.message, null))
    lines.on('line', (line) => {
      if (!line.startsWith('{"listening"')) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      resolve()
    })
  })
  if (child.pid === undefined) throw new StartError('no pid', stderr(), null)
  return { pid: child.pid, child, stderr }
}

export async function stopServer (server: ServerProcess): Promise<void> {
  const { child } = server
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

export interface MemoryStatus {
  /** Resident set size now, KiB. */
  rssKiB: number
  /** Peak resident set size since start (VmHWM), KiB. */
  hwmKiB: number
}

export function readMemory (pid: number): MemoryStatus | undefined {
  const path = `/proc/${pid}/status`
  if (!existsSync(path)) return undefined
  const text = readFileSync(path, 'utf8')
  const field = (name: string): number => Number(/\s(\d+) kB/.exec(text.split('\n').find((l) => l.startsWith(name)) ?? '')?.[1] ?? NaN)
  return { rssKiB: field('VmRSS:'), hwmKiB: field('VmHWM:') }
}

let clockTicks: number | undefined
/** User + system CPU seconds consumed by `pid` so far (all its threads). */
export function cpuSeconds (pid: number): number {
  const path = `/proc/${pid}/stat`
  if (!existsSync(path)) return NaN
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const rest = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(rest[11]) + Number(rest[12])) / clockTicks
}

/** Machine-wide CPU seconds from /proc/stat: `busy` (user + nice + system) and `steal`. */
export function machineCpuSeconds (): { busy: number, steal: number } {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    return { busy: ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0)) / clockTicks, steal: (f[7] ?? 0) / clockTicks }
  } catch {
    return { busy: NaN, steal: NaN }
  }
}
