/**
 * The plugin's own cost per request, without HTTP (`npm run bench:in-process`): the hook that
 * `app.requireAuth()` returns is called directly, in one process, with a minimal request and
 * reply (the fields the hook reads, and a reply that records what is sent). A real issuer, real
 * keys and the real plugin; no kernel, no HTTP parser, no Fastify routing, so the figures are the
 * verification itself, free of the per-request socket costs that the HTTP benchmark adds.
 *
 * Scenarios as in bench/run.ts: S1 same valid token, S2 a distinct valid token per request, S3 a
 * bad signature, S4 no header, S5 DPoP with a fresh ES256 proof per request (token cached).
 * Prints µs of wall time and of process CPU per request, median of `ROUNDS` alternating runs.
 * Bounded: every loop runs a fixed count.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import auth0Plugin from '../lib/index.js'
import { createTestIssuer } from '../lib/testing/index.js'
import { DpopClient, mintPool } from './tokens.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const N = Number(process.env.N ?? 20_000)
const AUDIENCE = 'https://api.example.com/'
const HOST = 'api.example.test'

const issuer = await createTestIssuer({ audience: AUDIENCE })
const app = Fastify({ logger: false })
await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {} })
await app.ready()
// Called as Fastify calls it: with `done` (the hook then answers synchronously when it can).
const asCallback = app.requireAuth() as unknown as (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => unknown

const foreign = await issuer.foreignKey()
const valid = await issuer.token()
const badSignature = await issuer.token({}, { signingKey: foreign.privateKey })
const pool = await mintPool(issuer, N * ROUNDS + N)
const client = await DpopClient.create(issuer)
const proofs = client.proofs(`http://${HOST}/protected`, N * ROUNDS + N)

type Credentials = { authorization?: string, dpop?: string }

/** The request fields the hook reads (headers, raw headers, URL parts for DPoP `htu`). */
function request (credentials: Credentials): FastifyRequest {
  const headers: Record<string, string> = { host: HOST, ...credentials }
  const rawHeaders = Object.entries(headers).flat()
  return {
    method: 'GET',
    url: '/protected',
    originalUrl: '/protected',
    protocol: 'http',
    host: HOST,
    hostname: HOST,
    headers,
    raw: { url: '/protected', rawHeaders, headers },
    log: { info () {}, warn () {}, error () {} }
  } as unknown as FastifyRequest
}

interface Recorder { reply: FastifyReply, status: () => number }

function recorder (): Recorder {
  let status = 200
  const reply = {
    sent: false,
    code (code: number) { status = code; return reply },
    header () { return reply },
    headers () { return reply },
    type () { return reply },
    send () { reply.sent = true; return reply }
  }
  return { reply: reply as unknown as FastifyReply, status: () => status }
}

/** Runs the hook once; resolves with the status it answered (200 when it let the request on). */
async function once (credentials: Credentials): Promise<number> {
  const { reply, status } = recorder()
  await new Promise<void>((resolve, reject) => {
    const settled = asCallback.call(app, request(credentials), reply, (err?: Error) => { if (err !== undefined) reject(err); else resolve() })
    if (settled instanceof Promise) settled.then(resolve, reject)
    else if ((reply as unknown as { sent: boolean }).sent) resolve()
  })
  return status()
}

const bearer = (token: string): Credentials => ({ authorization: `Bearer ${token}` })
let next2 = 0
let next5 = 0
const scenarios: Array<{ id: string, expect: number, make: () => Credentials }> = [
  { id: 'S1 same valid token', expect: 200, make: () => bearer(valid) },
  { id: 'S2 distinct valid tokens', expect: 200, make: () => bearer(pool[next2++] as string) },
  { id: 'S3 bad signature', expect: 401, make: () => bearer(badSignature) },
  { id: 'S4 no Authorization header', expect: 401, make: () => ({}) },
  { id: 'S5 DPoP, fresh ES256 proof', expect: 200, make: () => ({ authorization: `DPoP ${client.token}`, dpop: proofs[next5++] as string }) }
]

// Warm-up: keys fetched, code optimised, the S1 token cached; every scenario answers as expected.
for (const s of scenarios) {
  for (let i = 0; i < N / 10; i++) {
    const status = await once(s.make())
    if (status !== s.expect) throw new Error(`${s.id}: answered ${status}, expected ${s.expect}`)
  }
}

const results = new Map<string, { wall: number[], cpu: number[] }>(scenarios.map((s) => [s.id, { wall: [], cpu: [] }]))
for (let round = 0; round < ROUNDS; round++) {
  for (const s of scenarios) {
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) await once(s.make())
    const wall = Number(process.hrtime.bigint() - t0) / 1000 / N
    const cpu = process.cpuUsage(cpu0)
    const entry = results.get(s.id) as { wall: number[], cpu: number[] }
    entry.wall.push(wall)
    entry.cpu.push((cpu.user + cpu.system) / N)
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] as number
process.stdout.write(`In process, the requireAuth hook called directly: ${ROUNDS} rounds × ${N} requests, median µs per request (Node ${process.version})\n\n`)
process.stdout.write('| scenario | wall µs | CPU µs |\n| --- | ---: | ---: |\n')
for (const s of scenarios) {
  const { wall, cpu } = results.get(s.id) as { wall: number[], cpu: number[] }
  process.stdout.write(`| ${s.id} | ${median(wall).toFixed(1)} | ${median(cpu).toFixed(1)} |\n`)
}
await app.close()
await issuer.close()
