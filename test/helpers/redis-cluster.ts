/**
 * A real Redis Cluster for tests: six `redis-server` processes on free loopback ports (three
 * masters, one replica each), created with `redis-cli --cluster create … --cluster-replicas 1`,
 * in a temporary directory removed afterwards. Each test file gets its own cluster, so a test
 * that kills a master disturbs nobody else, and the file runs alone as well as in the suite.
 *
 * `cluster-node-timeout` is short (1 s) so that a killed master is marked failed, and its replica
 * promoted, within seconds.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Cluster, Redis, type ClusterOptions } from 'ioredis'
import { freePort } from './redis.js'

const run = promisify(execFile)
const READY_TIMEOUT_MS = 30_000
export const NODE_TIMEOUT_MS = 1000

/**
 * Client options that turn an unreachable node into a prompt rejection (so the plugin answers
 * 503 at once), while the client keeps following the cluster: a refused connection or a
 * `CLUSTERDOWN` reply makes it reload the slot map, and it finds a promoted replica by itself.
 */
export const clusterClientOptions: ClusterOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  // A command to a dead node is retried this many times (every retryDelayOnFailover ms) before
  // it rejects; the replay check waits that long at most.
  maxRedirections: 3,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  slotsRefreshTimeout: 1000,
  clusterRetryStrategy: (times) => Math.min(times * 100, 500),
  redisOptions: {
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 1,
    disconnectTimeout: 100
  }
}

export interface ClusterNode {
  port: number
  child: ChildProcess
}

export interface TestRedisCluster {
  /** What a client is given: every node's address. */
  readonly startupNodes: Array<{ host: string, port: number }>
  /** A connected ioredis `Cluster` with `clusterClientOptions`, closed by `close()`. */
  newClient (): Promise<Cluster>
  /** A command sent to one node over its own connection (CLUSTER INFO, WAIT, CONFIG SET …). */
  command (port: number, ...args: Array<string | number>): Promise<unknown>
  /** The port of the master serving `key`'s hash slot, asked of a live node. */
  masterOf (key: string, askPort?: number): Promise<number>
  /** The port of the replica of the master on `masterPort`. */
  replicaOf (masterPort: number): Promise<number>
  /** SIGKILL for one node (a crash). */
  kill (port: number): Promise<void>
  /** Waits until the node on `port` reports `cluster_state:<state>`. */
  waitForState (port: number, state: 'ok' | 'fail'): Promise<void>
  /** Waits until the node on `port` is a master. */
  waitForMaster (port: number): Promise<void>
  /** Disconnects every client, kills every node, removes the directory. Idempotent. */
  close (): Promise<void>
}

export interface StartClusterOptions {
  /** The server binary. Default `REDIS_SERVER_BIN` or `redis-server`. */
  server?: string
  /** The CLI used for `--cluster create`. Default `REDIS_CLI_BIN` or `redis-cli`. */
  cli?: string
}

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** Starts a 3-master, 3-replica cluster; closed by `t.teardown` when a tap test is given. */
export async function startRedisCluster (
  t?: { teardown (fn: () => unknown): void },
  options: StartClusterOptions = {}
): Promise<TestRedisCluster> {
  const server = options.server ?? process.env.REDIS_SERVER_BIN ?? 'redis-server'
  const cli = options.cli ?? process.env.REDIS_CLI_BIN ?? 'redis-cli'
  const dir = await mkdtemp(join(tmpdir(), 'fastify-auth0-api-cluster-'))
  const nodes = new Map<number, ClusterNode>()
  const admins = new Map<number, Redis>()
  const clients = new Set<Cluster>()
  let closed = false

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    for (const client of clients) client.disconnect()
    for (const admin of admins.values()) admin.disconnect()
    await Promise.all([...nodes.values()].map(async (node) => { await stop(node) }))
    await rm(dir, { recursive: true, force: true })
  }
  t?.teardown(close)

  try {
    for (let i = 0; i < 6; i++) {
      const node = await startNode(server, dir)
      nodes.set(node.port, node)
    }
    const ports = [...nodes.keys()]
    await run(cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: READY_TIMEOUT_MS })
  } catch (err) {
    await close()
    throw err
  }

  const admin = (port: number): Redis => {
    let client = admins.get(port)
    if (client === undefined) {
      client = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => null })
      client.on('error', () => {})
      admins.set(port, client)
    }
    return client
  }
  const command = async (port: number, ...args: Array<string | number>): Promise<unknown> =>
    await admin(port).call(String(args[0]), ...args.slice(1))

  const until = async (what: string, test: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      if (await test().catch(() => false)) return
      if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} not reached in ${READY_TIMEOUT_MS} ms`)
      await sleep(50)
    }
  }
  const info = async (port: number): Promise<string> => String(await command(port, 'CLUSTER', 'INFO'))
  const waitForState = async (port: number, state: 'ok' | 'fail'): Promise<void> => {
    await until(`cluster_state:${state} on ${port}`, async () => (await info(port)).includes(`cluster_state:${state}\r\n`))
  }
  /** `CLUSTER NODES` of a live node: one entry per node. */
  const topology = async (port: number): Promise<Array<{ id: string, port: number, flags: string[], masterId: string, slots: string[] }>> =>
    String(await command(port, 'CLUSTER', 'NODES')).trim().split('\n').map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ')
      return { id: id as string, port: Number(/:(\d+)@/.exec(address as string)?.[1]), flags: (flags as string).split(','), masterId: masterId as string, slots }
    })
  const anyLive = (): number => {
    for (const [port, node] of nodes) if (node.child.exitCode === null && node.child.signalCode === null) return port
    throw new Error('no live node')
  }

  const cluster: TestRedisCluster = {
    startupNodes: [...nodes.keys()].map((port) => ({ host: '127.0.0.1', port })),
    async newClient () {
      const client = new Cluster(cluster.startupNodes, clusterClientOptions)
      client.on('error', () => {})
      clients.add(client)
      await client.connect()
      return client
    },
    command,
    async masterOf (key, askPort = anyLive()) {
      const slot = Number(await command(askPort, 'CLUSTER', 'KEYSLOT', key))
      const owner = (await topology(askPort)).find((node) => node.flags.includes('master') && !node.flags.includes('fail') && node.slots.some((range) => {
        const [from, to = from] = range.split('-').map(Number)
        return slot >= (from as number) && slot <= (to as number)
      }))
      if (owner === undefined) throw new Error(`no master serves slot ${slot}`)
      return owner.port
    },
    async replicaOf (masterPort) {
      const all = await topology(masterPort)
      const master = all.find((node) => node.port === masterPort)
      const replica = all.find((node) => node.masterId === master?.id)
      if (replica === undefined) throw new Error(`no replica of ${masterPort}`)
      return replica.port
    },
    async kill (port) {
      const node = nodes.get(port)
      if (node === undefined) throw new Error(`no node on ${port}`)
      admins.get(port)?.disconnect()
      admins.delete(port)
      await stop(node)
    },
    waitForState,
    async waitForMaster (port) {
      await until(`${port} master`, async () => String(await command(port, 'ROLE')).startsWith('master'))
    },
    close
  }

  try {
    // Every node agrees the cluster is up, and every replica has synchronised with its master.
    for (const port of nodes.keys()) await waitForState(port, 'ok')
    await until('six nodes known everywhere', async () => {
      for (const port of nodes.keys()) if (!(await info(port)).includes('cluster_known_nodes:6\r\n')) return false
      return true
    })
    await until('replicas in sync', async () => {
      let synced = 0
      for (const port of nodes.keys()) {
        const replication = String(await command(port, 'INFO', 'replication'))
        if (replication.includes('role:slave') && replication.includes('master_link_status:up')) synced++
      }
      return synced === 3
    })
  } catch (err) {
    await close()
    throw err
  }
  return cluster
}

async function startNode (binary: string, dir: string): Promise<ClusterNode> {
  // Two ports per node (clients, cluster bus); one can be taken by a parallel test: retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const busPort = await freePort()
    const child = spawn(binary, [
      '--port', String(port), '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
      '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
      '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(child)
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const node = { port, child }
    let failure: Error | undefined
    child.once('error', (err: NodeJS.ErrnoException) => {
      failure = err.code === 'ENOENT' ? new Error(`${binary} not found: install it (apt-get install -y redis-server)`) : err
    })
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (failure === undefined && child.exitCode === null && !await answers(port)) {
      if (Date.now() > deadline) failure = new Error(`${binary} on port ${port} did not answer`)
      else await sleep(20)
    }
    if (failure === undefined && child.exitCode === null) return node
    await stop(node)
    if (attempt === 5 || (failure !== undefined && failure.message.includes('not found'))) {
      throw failure ?? new Error(`${binary} exited: ${output.trim()}`)
    }
  }
}

async function answers (port: number): Promise<boolean> {
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500 })
  probe.on('error', () => {})
  try {
    await probe.connect()
    return await probe.ping() === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

async function stop (node: ClusterNode): Promise<void> {
  const { child } = node
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await gone
  }
  live.delete(child)
}
