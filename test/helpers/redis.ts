/**
 * A real Redis for tests. `REDIS_URL` points at an existing server; otherwise each call spawns its
 * own `redis-server` on a free loopback port (no persistence), which a test can kill and restart
 * to see how the stores behave when Redis goes away.
 *
 * Clients are tuned to fail fast: with no offline queue and one retry, a command sent while Redis
 * is down rejects within milliseconds instead of waiting for a reconnect, so tests never hang.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis, type RedisOptions } from 'ioredis'

export interface TestRedis {
  readonly url: string
  readonly port: number
  /** True when the server comes from `REDIS_URL` (then it cannot be stopped or restarted). */
  readonly external: boolean
  /** A connected client, closed by `close()`. */
  readonly client: Redis
  /** Another connected client to the same server (a second API instance), closed by `close()`. */
  newClient (): Promise<Redis>
  /** Kills the server (SIGKILL, like a crash); clients start failing. */
  stop (): Promise<void>
  /** Starts the server again on the same port and waits until `client` is usable again. */
  restart (): Promise<void>
  /** Disconnects every client and kills a spawned server. Idempotent. */
  close (): Promise<void>
}

export interface StartRedisOptions {
  /** Spawn a private server even when `REDIS_URL` is set (needed to stop/restart it). */
  own?: boolean
  /** The server binary. Default `REDIS_SERVER_BIN` or `redis-server`. */
  binary?: string
}

/** Options that make a dead server surface as fast rejections, and keep reconnecting. */
export const fastFailOptions: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  commandTimeout: 2000,
  // ioredis arms this timer even for a socket that is already closed; keep teardown short.
  disconnectTimeout: 100,
  retryStrategy: (times) => Math.min(times * 50, 200)
}

const READY_TIMEOUT_MS = 10_000
const live = new Set<ChildProcess>()

// A crashed test process must not leave servers behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** Starts (or connects to) a Redis; closed by `t.teardown` when a tap test is given. */
export async function startRedis (
  t?: { teardown (fn: () => unknown): void },
  options: StartRedisOptions = {}
): Promise<TestRedis> {
  const envUrl = process.env.REDIS_URL
  const redis = envUrl !== undefined && envUrl !== '' && options.own !== true
    ? await external(envUrl)
    : await spawned(options.binary ?? process.env.REDIS_SERVER_BIN ?? 'redis-server')
  t?.teardown(() => redis.close())
  return redis
}

async function connect (url: string, clients: Set<Redis>): Promise<Redis> {
  const client = new Redis(url, fastFailOptions)
  // Errors also reject the command that met them; without a listener ioredis logs each one.
  client.on('error', () => {})
  clients.add(client)
  await client.connect()
  return client
}

async function external (url: string): Promise<TestRedis> {
  const clients = new Set<Redis>()
  const client = await connect(url, clients).catch(async (err: unknown) => {
    // Stop the reconnect loop, or it would keep the test process alive.
    await disconnectAll(clients)
    throw new Error(`cannot connect to REDIS_URL ${url}: ${String(err)}`)
  })
  const unsupported = async (): Promise<never> => {
    throw new Error('cannot stop or restart the Redis given by REDIS_URL; use startRedis(t, { own: true })')
  }
  return {
    url,
    port: Number(new URL(url).port || 6379),
    external: true,
    client,
    newClient: async () => await connect(url, clients),
    stop: unsupported,
    restart: unsupported,
    close: async () => { await disconnectAll(clients) }
  }
}

async function spawned (binary: string): Promise<TestRedis> {
  let server = await startOnFreePort(binary)
  const port = server.port
  const url = `redis://127.0.0.1:${port}`
  const clients = new Set<Redis>()
  const client = await connect(url, clients).catch(async (err: unknown) => {
    await disconnectAll(clients)
    await server.stop()
    throw err
  })
  return {
    url,
    port,
    external: false,
    client,
    newClient: async () => await connect(url, clients),
    stop: async () => {
      await server.stop()
    },
    restart: async () => {
      await server.stop()
      server = await startServer(binary, port)
      await Promise.all([...clients].map(waitReady))
    },
    close: async () => {
      await disconnectAll(clients)
      await server.stop()
    }
  }
}

interface Server {
  port: number
  stop (): Promise<void>
}

class MissingBinaryError extends Error {}

async function startOnFreePort (binary: string): Promise<Server> {
  // The free port can be taken between probing and binding (tests run in parallel): retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServer(binary, await freePort())
    } catch (err) {
      if (err instanceof MissingBinaryError || attempt === 5) throw err
    }
  }
}

async function startServer (binary: string, port: number): Promise<Server> {
  const child = spawn(binary, [
    '--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'warning'
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  let failure: Error | undefined
  const gone = new Promise<void>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      failure = err.code === 'ENOENT'
        ? new MissingBinaryError(`${binary} not found: install it (apt-get install -y redis-server) or set REDIS_URL`)
        : err
      resolve()
    })
    child.once('exit', (code, signal) => {
      failure ??= new Error(`${binary} exited with ${code ?? signal}: ${output.trim()}`)
      resolve()
    })
  })
  const stop = async (): Promise<void> => {
    child.kill('SIGKILL')
    await gone
    live.delete(child)
  }
  const deadline = Date.now() + READY_TIMEOUT_MS
  // Ready once the server on the port answers with this child's pid (not another test's Redis).
  while (failure === undefined && await serverPid(port) !== child.pid) {
    if (Date.now() > deadline) failure = new Error(`${binary} on port ${port} did not answer`)
    else await sleep(20)
  }
  if (failure !== undefined) {
    await stop()
    throw failure
  }
  return { port, stop }
}

export async function freePort (): Promise<number> {
  const probe = createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as AddressInfo
  probe.close()
  await once(probe, 'close')
  return port
}

/** The `process_id` the Redis on `port` reports (raw INFO, no client), or undefined. */
async function serverPid (port: number): Promise<number | undefined> {
  return await new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.setTimeout(500)
    let reply = ''
    const done = (pid: number | undefined): void => {
      socket.destroy()
      resolve(pid)
    }
    socket.once('connect', () => socket.write('INFO server\r\n'))
    socket.on('data', (data: Buffer) => {
      reply += data.toString()
      const match = /process_id:(\d+)\r\n/.exec(reply)
      if (match !== null) done(Number(match[1]))
    })
    socket.once('error', () => done(undefined))
    socket.once('timeout', () => done(undefined))
    socket.once('end', () => done(undefined))
  })
}

async function waitReady (client: Redis): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (client.status !== 'ready') {
    if (Date.now() > deadline) throw new Error(`Redis client not ready after restart (${client.status})`)
    await sleep(20)
  }
}

/**
 * Disconnects at once (no QUIT round trip: the server may be dead). An open connection ends with
 * an `end` event; a client waiting to reconnect just drops its timer and never emits one.
 */
async function disconnectAll (clients: Set<Redis>): Promise<void> {
  const all = [...clients]
  clients.clear()
  await Promise.all(all.map(async (client) => {
    const open = client.status === 'connecting' || client.status === 'connect' || client.status === 'ready'
    const ended = new Promise((resolve) => client.once('end', resolve))
    client.disconnect()
    // The unref'd timer is a backstop so teardown can never hang on a missed event.
    if (open) await Promise.race([ended, sleep(1000, undefined, { ref: false })])
  }))
}
