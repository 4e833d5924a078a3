/**
 * Redis Cluster, for real: three masters with a replica each (test/helpers/redis-cluster.ts), two
 * API instances on their own ioredis `Cluster` clients sharing one `redisStore` configuration.
 *
 * - the JWKS and discovery are fetched once for both instances (cache adapter);
 * - a DPoP proof used on one instance is refused on the other, whichever master holds its key;
 * - every command the store sends names one key (MONITOR on every master), so none can cross slots;
 * - a master crashes: while the cluster has no master for its slots, DPoP fails closed (503,
 *   `Retry-After`), Bearer tokens keep verifying with the keys in process, nothing bad passes;
 *   once the replica is promoted, the clients follow it, DPoP verifies again, and a proof used
 *   before the crash (replicated) is still a replay;
 * - another master crashes and the cluster fails over by itself: every answer meanwhile is a 200
 *   or that 503, and DPoP verifies again after the promotion.
 */
import { hash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Cluster } from 'ioredis'
import { Redis } from 'ioredis'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { redisStore } from '../../lib/redis/index.js'
import { createTestIssuer, dpopKey, proof } from '../../lib/testing/index.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { AUDIENCE, captureLogs, LEVEL, type LogCapture } from './helpers.js'

const HOST = 'api.example.com'
const URL_PRIVATE = `http://${HOST}/private`
const DOWN = { status: 503, error: 'temporarily_unavailable', description: 'DPoP replay check unavailable', retryAfter: '5' }
const REPLAYED = { status: 401, error: 'invalid_dpop_proof', description: 'DPoP proof replayed' }

const issuer = await createTestIssuer()
t.teardown(() => issuer.close())
const cluster = await startRedisCluster(t)
const prefix = `cluster:${randomUUID()}:`

async function instance (client: Cluster, logs: LogCapture): Promise<FastifyInstance> {
  const store = redisStore({ client, prefix })
  const options: Auth0PluginOptions = {
    issuerBaseURL: issuer.issuerBaseURL,
    audience: AUDIENCE,
    env: {},
    cache: { adapter: store },
    dpop: { replayStore: store }
  }
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  await app.register(auth0Plugin, options)
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  await app.ready()
  t.teardown(() => app.close())
  return app
}

const key = await dpopKey()
const bound = await issuer.token({}, { dpopKey: key })
const bearer = await issuer.token()

interface Answer { status: number, error?: string, description?: string, retryAfter?: string }

async function send (app: FastifyInstance, auth: { dpop: string } | { bearer: string }): Promise<Answer> {
  const res = await app.inject({
    url: '/private',
    headers: 'dpop' in auth
      ? { host: HOST, authorization: `DPoP ${bound}`, dpop: auth.dpop }
      : { host: HOST, authorization: `Bearer ${auth.bearer}` }
  })
  const detail = (res.json() as { detail?: { error: string, error_description: string } }).detail
  return {
    status: res.statusCode,
    ...(detail !== undefined ? { error: detail.error, description: detail.error_description } : {}),
    ...(res.headers['retry-after'] !== undefined ? { retryAfter: String(res.headers['retry-after']) } : {})
  }
}

/**
 * The Redis key of a proof's replay entry: `<prefix>replay:<jkt>.<SHA-256(jti)>` (the replay
 * guard's key, under the store's prefix). The test checks this against Redis before relying on it.
 */
const replayKey = (jti: string): string => `${prefix}replay:${key.jkt}.${hash('sha256', jti, 'base64url')}`

/** A jti whose replay entry lives on the master `port` (or on any other master with `not`). */
async function jtiOn (port: number, not = false): Promise<string> {
  for (;;) {
    const jti = randomUUID()
    if ((await cluster.masterOf(replayKey(jti)) === port) !== not) return jti
  }
}
const proofWith = async (jti: string): Promise<string> => await proof({ key, url: URL_PRIVATE, accessToken: bound, jti })

const logsA = captureLogs()
const logsB = captureLogs()
const clientA = await cluster.newClient()
const a = await instance(clientA, logsA)
const b = await instance(await cluster.newClient(), logsB)
const fetches = (): [number, number] => [issuer.requests.discovery, issuer.requests.jwks]

t.test('keys are fetched once for both instances', async (t) => {
  t.same(await send(a, { bearer }), { status: 200 })
  t.same(fetches(), [1, 1], 'A fetched discovery and the JWKS')
  // A writes to the cluster in the background; B finds the documents there.
  for (let i = 0; i < 200 && await clientA.exists(`${prefix}cache:jwks:${issuer.jwksUri}`) === 0; i++) await sleep(10)
  t.same(await send(b, { bearer }), { status: 200 })
  t.same(fetches(), [1, 1], 'B fetched nothing')
})

t.test('a proof used on one instance is refused on the other, on every master', async (t) => {
  const masters = new Set<number>()
  for (let i = 0; i < 12; i++) {
    const jti = randomUUID()
    const used = await proofWith(jti)
    const [first, second] = i % 2 === 0 ? [a, b] : [b, a]
    t.same(await send(first, { dpop: used }), { status: 200 }, 'accepted once')
    t.equal(await clientA.exists(replayKey(jti)), 1, 'the replay entry is where the test expects it')
    t.same(await send(second, { dpop: used }), REPLAYED, 'a replay on the other instance')
    masters.add(await cluster.masterOf(replayKey(jti)))
  }
  // Twelve random keys land on one master only with probability 3 * (1/3)^12.
  t.ok(masters.size > 1, `replay entries spread over ${masters.size} masters`)

  const raced = await proofWith(randomUUID())
  const results = await Promise.all([send(a, { dpop: raced }), send(b, { dpop: raced }), send(a, { dpop: raced }), send(b, { dpop: raced })])
  t.equal(results.filter((r) => r.status === 200).length, 1, 'one of four concurrent uses accepted')
  t.same(results.filter((r) => r.status !== 200), [REPLAYED, REPLAYED, REPLAYED])
})

t.test('every command the store sends names one key: none can cross slots', async (t) => {
  const masters: number[] = []
  for (const { port } of cluster.startupNodes) if (String(await cluster.command(port, 'ROLE')).startsWith('master')) masters.push(port)
  t.equal(masters.length, 3)
  const commands: string[][] = []
  const connections: Redis[] = []
  t.teardown(() => { for (const connection of connections) connection.disconnect() })
  for (const port of masters) {
    const connection = new Redis({ host: '127.0.0.1', port })
    connections.push(connection)
    const monitor = await connection.monitor()
    connections.push(monitor)
    monitor.on('monitor', (_time: string, args: string[]) => { if (args.some((arg) => arg.startsWith(prefix))) commands.push(args) })
  }

  // Each store operation: a cache miss and fill (a new instance), replay checks, a corrupt entry.
  const logsC = captureLogs()
  const c = await instance(await cluster.newClient(), logsC)
  t.same(await send(c, { bearer }), { status: 200 })
  t.same(await send(c, { dpop: await proofWith(randomUUID()) }), { status: 200 })
  const store = redisStore({ client: clientA, prefix })
  await store.set('probe', { a: 1 }, 10)
  t.same(await store.get('probe'), { a: 1 })
  await clientA.set(`${prefix}cache:corrupt`, '{not json')
  t.equal(await store.get('corrupt'), undefined, 'a corrupt entry is a miss')
  await store.delete('probe')
  await sleep(200) // MONITOR lines arrive after the replies

  const names = new Set(commands.map((args) => (args[0] as string).toLowerCase()))
  t.same([...names].sort(), ['del', 'get', 'set'], 'the store uses GET, SET and DEL')
  for (const args of commands) {
    const keys = args.filter((arg) => arg.startsWith(prefix))
    t.equal(keys.length, 1, `${args[0] as string} names one key`)
  }
})

t.test('a master crashes: DPoP fails closed until its replica takes over, then verifies again', async (t) => {
  // A proof used before the crash, its entry on the master about to die and copied to its replica.
  const victimJti = randomUUID()
  const victim = await cluster.masterOf(replayKey(victimJti))
  const replica = await cluster.replicaOf(victim)
  const usedBefore = await proofWith(victimJti)
  // Picked while the topology still lists the master.
  const onDeadMaster = await proofWith(await jtiOn(victim))
  const onLiveMaster = await proofWith(await jtiOn(victim, true))
  t.same(await send(a, { dpop: usedBefore }), { status: 200 })
  t.equal(await cluster.command(victim, 'WAIT', 1, 5000), 1, 'the replica has the entry')

  // No automatic promotion yet: the test looks at the cluster without a master for those slots.
  await cluster.command(replica, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'yes')
  await cluster.kill(victim)
  const survivors = cluster.startupNodes.map((n) => n.port).filter((p) => p !== victim)
  const elsewhere = survivors.find((p) => p !== replica) as number
  // Every surviving node has marked the master failed (after cluster-node-timeout).
  for (const port of survivors) await cluster.waitForState(port, 'fail')

  // cluster-require-full-coverage (the default): the whole cluster refuses queries.
  for (const [name, app] of [['A', a], ['B', b]] as const) {
    t.same(await send(app, { dpop: onDeadMaster }), DOWN, `${name}: a proof whose entry would be on the dead master: 503`)
    t.same(await send(app, { dpop: onLiveMaster }), DOWN, `${name}: any proof, while the cluster is down: 503`)
    t.same(await send(app, { dpop: usedBefore }), DOWN, `${name}: a used proof is not accepted either`)
    t.same(await send(app, { bearer }), { status: 200 }, `${name}: Bearer tokens verify with the keys in process`)
  }
  const foreign = await issuer.foreignKey()
  t.equal((await send(a, { bearer: await issuer.token({}, { signingKey: foreign.privateKey }) })).status, 401, 'a forged token is still refused')
  t.equal((await send(b, { bearer: bound })).status, 401, 'a bound token as Bearer is still refused')
  t.match(logsA.find('replay_store_failed'), [{ level: LEVEL.warn }], 'the replay store failure is logged at warn')

  // The replica takes over (as it would have on its own after cluster-node-timeout).
  await cluster.command(replica, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'no')
  await cluster.waitForMaster(replica)
  for (const port of survivors) await cluster.waitForState(port, 'ok')
  t.equal(await cluster.masterOf(replayKey(victimJti), elsewhere), replica, 'the replica serves the slots')

  // The clients find the new master by themselves (a refused connection or CLUSTERDOWN makes
  // them reload the slot map). Until they have, requests are refused with 503, never accepted.
  const refusals: Answer[] = []
  let recovered: Answer | undefined
  for (let i = 0; i < 200 && recovered === undefined; i++) {
    const answer = await send(a, { dpop: await proofWith(await jtiOn(replica)) })
    if (answer.status === 200) recovered = answer
    else {
      refusals.push(answer)
      await sleep(50)
    }
  }
  t.same(recovered, { status: 200 }, 'A verifies DPoP again')
  t.same(refusals.filter((r) => r.status !== 503), [], 'until then, only 503s')
  t.comment(`A: ${refusals.length} request(s) refused with 503 after the promotion before the client followed`)
  let fromB: Answer | undefined
  for (let i = 0; i < 200 && fromB?.status !== 200; i++) {
    fromB = await send(b, { dpop: await proofWith(await jtiOn(replica)) })
    if (fromB.status !== 200) {
      t.equal(fromB.status, 503)
      await sleep(50)
    }
  }
  t.same(fromB, { status: 200 }, 'B verifies DPoP again')

  t.same(await send(b, { dpop: usedBefore }), REPLAYED, 'the proof used before the crash is still a replay: its entry survived on the replica')
  const fresh = await proofWith(await jtiOn(replica))
  t.same(await send(b, { dpop: fresh }), { status: 200 })
  t.same(await send(a, { dpop: fresh }), REPLAYED, 'replay detection across instances works after the failover')
  t.same(fetches(), [1, 1], 'no key fetch from the issuer through all of it')
})

t.test('another master crashes and the cluster promotes its replica by itself: only 200 or 503, then 200', async (t) => {
  const masters: number[] = []
  for (const { port } of cluster.startupNodes) {
    if (String(await cluster.command(port, 'ROLE').catch(() => '')).startsWith('master')) masters.push(port)
  }
  // The master promoted above has no replica left; take one that has.
  let victim: number | undefined
  let replica: number | undefined
  for (const port of masters) {
    replica = await cluster.replicaOf(port).catch(() => undefined)
    if (replica !== undefined) { victim = port; break }
  }
  if (victim === undefined || replica === undefined) throw new Error('no master with a replica')
  const jtis: string[] = []
  for (let i = 0; i < 100; i++) jtis.push(await jtiOn(victim))

  await cluster.kill(victim)
  const answers = new Map<string, number>()
  let last: Answer | undefined
  let accepted = ''
  let refused: string | undefined
  for (const jti of jtis) {
    accepted = jti
    last = await send(a, { dpop: await proofWith(jti) })
    if (last.status === 503 && refused === undefined) refused = jti
    const shape = JSON.stringify(last)
    answers.set(shape, (answers.get(shape) ?? 0) + 1)
    if (last.status === 200 && String(await cluster.command(replica, 'ROLE')).startsWith('master')) break
    await sleep(100)
  }
  t.comment(`answers while the cluster failed over: ${JSON.stringify(Object.fromEntries(answers))}`)
  t.same([...answers.keys()].filter((shape) => shape !== JSON.stringify({ status: 200 }) && shape !== JSON.stringify(DOWN)), [], 'nothing but 200 and the 503')
  t.ok((answers.get(JSON.stringify(DOWN)) ?? 0) > 0, 'proofs whose entries were on the dead master were refused with 503 at first')
  t.same(last, { status: 200 }, 'and accepted once the replica was promoted')
  t.same(await send(b, { dpop: await proofWith(accepted) }), REPLAYED, 'B sees the replay of the proof A got accepted on the new master')
  t.same(await send(b, { dpop: await proofWith(refused ?? '') }), { status: 200 }, 'a proof refused with 503 was never recorded: it is accepted once, later')
})
