/** Load generation (autocannon, in the driver's process) and the few plain requests of the checks. */
import { Agent, request } from 'node:http'
import autocannon from 'autocannon'

export interface LoadOptions {
  port: number
  connections: number
  durationS: number
  /** Same headers on every request: autocannon pre-builds the request once. */
  headers?: Record<string, string>
  /** Headers computed per request (pools of tokens or proofs). */
  next?: () => Record<string, string>
}

export interface LoadResult {
  responses: number
  durationS: number
  rps: number
  p50Ms: number
  p99Ms: number
  statuses: Record<string, number>
  errors: number
  timeouts: number
}

const PATH = '/protected'

function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN
}

export async function load (opts: LoadOptions): Promise<LoadResult> {
  const request: autocannon.Request = { method: 'GET', path: PATH }
  if (opts.next !== undefined) {
    const next = opts.next
    request.setupRequest = (req) => {
      req.headers = { ...req.headers, ...next() }
      return req
    }
  }
  // autocannon's own latency histogram has 1 ms resolution, too coarse for sub-millisecond
  // answers: keep every response time (µs precision) and take percentiles here.
  let latencies = new Float64Array(1 << 16)
  let count = 0
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: `http://127.0.0.1:${opts.port}`,
      connections: opts.connections,
      pipelining: 1,
      duration: opts.durationS,
      timeout: 10,
      headers: opts.headers ?? {},
      requests: [request]
    }, (err, res) => { err !== null ? reject(err) : resolve(res) })
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2)
        grown.set(latencies)
        latencies = grown
      }
      latencies[count++] = ms
    })
  })
  const sorted = latencies.subarray(0, count).sort()
  const statuses: Record<string, number> = {}
  for (const [code, { count: n }] of Object.entries(result.statusCodeStats)) statuses[code] = n
  return {
    responses: result.requests.total,
    durationS: result.duration,
    rps: result.requests.total / result.duration,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts
  }
}

export interface Reply { status: number, body: string }

/** One GET /protected; `agent: false` opens a connection of its own (a cold client). */
export async function get (port: number, headers: Record<string, string>, agent: Agent | false = false, timeoutMs = 10_000): Promise<Reply> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: PATH, method: 'GET', headers, agent, timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { if (body.length < 2000) body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** Sends every header set once, at most `concurrency` in flight, over a keep-alive pool. */
export async function sendAll (port: number, headerSets: Array<Record<string, string>>, concurrency: number, shared?: Agent): Promise<{ statuses: Record<string, number>, elapsedMs: number }> {
  const agent = shared ?? new Agent({ keepAlive: true, maxSockets: concurrency })
  const statuses: Record<string, number> = {}
  let nextIndex = 0
  const start = performance.now()
  const worker = async (): Promise<void> => {
    while (nextIndex < headerSets.length) {
      const headers = headerSets[nextIndex++]!
      let key: string
      try {
        key = String((await get(port, headers, agent)).status)
      } catch {
        key = 'error'
      }
      statuses[key] = (statuses[key] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsedMs = performance.now() - start
  if (shared === undefined) agent.destroy()
  return { statuses, elapsedMs }
}
