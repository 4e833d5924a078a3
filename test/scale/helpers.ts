/**
 * Shared set-up for the scale tests: real Fastify apps with the plugin, a captured logger stream,
 * and a cache adapter that counts what reaches it. Nothing here stands in for jose, fetch or the
 * verifier: issuers are real HTTP servers and adapters are real stores.
 */
import { Writable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions, type CacheAdapter } from '../../lib/index.js'

export const AUDIENCE = 'https://api.example.com/'

export interface LogLine {
  level: number
  msg: string
  [field: string]: unknown
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const

export interface LogCapture {
  stream: Writable
  lines: LogLine[]
  /** Lines whose message contains `text`. */
  find (text: string): LogLine[]
}

export function captureLogs (): LogCapture {
  const lines: LogLine[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine)
      done()
    }
  })
  return { stream, lines, find: (text) => lines.filter((line) => line.msg.includes(text)) }
}

export interface AppOptions {
  logs?: LogCapture
}

/**
 * A Fastify app with the plugin and routes:
 *   GET /private (any valid token: echoes `iss`, `sub`), GET /messages ('read:messages').
 * `t.teardown` closes it.
 */
export async function appWith (
  t: { teardown (fn: () => unknown): void },
  options: Partial<Auth0PluginOptions>,
  { logs }: AppOptions = {}
): Promise<FastifyInstance> {
  const app = Fastify(logs === undefined ? {} : { logger: { level: 'debug', stream: logs.stream } })
  await app.register(auth0Plugin, { audience: AUDIENCE, env: {}, ...options })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ iss: request.claims.iss, sub: request.claims.sub }))
  app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ sub: request.claims.sub }))
  await app.ready()
  t.teardown(() => app.close())
  return app
}

export interface Reply {
  statusCode: number
  error: string | undefined
  headers: Record<string, unknown>
  body: Record<string, unknown>
}

/** GET `url` with a Bearer token; the status, the error code and the parsed body. */
export async function get (app: FastifyInstance, token: string, url = '/private'): Promise<Reply> {
  const res = await app.inject({ url, headers: { authorization: `Bearer ${token}` } })
  const body = JSON.parse(res.body) as Record<string, unknown>
  return { statusCode: res.statusCode, error: (body.detail as { error?: string } | undefined)?.error, headers: res.headers, body }
}

/** Wraps an adapter and counts the calls that reach it. */
export class CountingAdapter implements CacheAdapter {
  readonly inner: CacheAdapter
  calls = { get: 0, set: 0, delete: 0 }
  /** Every `set`, in order: key and TTL. */
  readonly sets: Array<{ key: string, ttlSeconds: number }> = []

  constructor (inner: CacheAdapter) {
    this.inner = inner
  }

  async get (key: string): Promise<unknown> {
    this.calls.get++
    return await this.inner.get(key)
  }

  async set (key: string, value: unknown, ttlSeconds: number): Promise<void> {
    this.calls.set++
    this.sets.push({ key, ttlSeconds })
    await this.inner.set(key, value, ttlSeconds)
  }

  async delete (key: string): Promise<void> {
    this.calls.delete++
    await this.inner.delete(key)
  }
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `condition` until true (or fails after `ms`): background refreshes settle asynchronously. */
export async function until (condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(10)
  }
}

export const MiB = 1024 * 1024

let collect: (() => void) | undefined

/** Heap in use after full collections, in bytes (enables `gc` on first use). */
export function heapUsed (): number {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc')
    collect = runInNewContext('gc') as () => void
  }
  collect()
  collect()
  return process.memoryUsage().heapUsed
}
