/**
 * Memory of the verified-token cache under a million distinct tokens (`npm run bench:memory`).
 *
 * A real issuer and the real plugin in one process; every token is distinct, valid and presented
 * twice, so it is verified in full, then remembered (a token enters the cache on its second
 * verification): the cache fills up to its bound and then evicts on every new token. RSS is read
 * after a full GC at the start, every 100 000 tokens and at the end; the run fails (exit 1) if it
 * grows by more than 64 MiB. Tokens are ES256 (cheap to sign), minted in batches and dropped.
 * Bounded in count (`MEMORY_TOKENS`, default 1 000 000) and in time (about 1M × 0.2 ms).
 */
import { createPrivateKey, sign } from 'node:crypto'
import Fastify from 'fastify'
import { exportJWK } from 'jose'
import auth0Plugin from '../lib/index.js'
import { createTestIssuer } from '../lib/testing/index.js'

const total = Number(process.env.MEMORY_TOKENS ?? 1_000_000)
const limitMiB = 64
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:memory does)')

const AUDIENCE = 'https://api.example.com/'
const issuer = await createTestIssuer({ alg: 'ES256' })
const app = Fastify()
await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, algorithms: ['ES256'], env: {} })
await app.ready()

// Sign with node:crypto straight away: SignJWT's WebCrypto round trip would dominate the run.
const signer = createPrivateKey({ key: await exportJWK(issuer.currentKey.privateKey) as never, format: 'jwk' })
const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: issuer.currentKey.kid, typ: 'at+jwt' })).toString('base64url')
const now = Math.floor(Date.now() / 1000)
const base = JSON.stringify({ iss: issuer.issuer, aud: AUDIENCE, sub: 'memory-user', iat: now, exp: now + 3600, scope: 'read:messages', jti: '' }).slice(0, -2)
function mint (i: number): string {
  const input = `${header}.${Buffer.from(`${base}${i}"}`).toString('base64url')}`
  return `${input}.${sign('sha256', Buffer.from(input), { key: signer, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
}

async function present (token: string): Promise<void> {
  await app.auth0.verify({ method: 'GET', url: '/', headers: { authorization: `Bearer ${token}` } })
}

const mib = (bytes: number): number => bytes / 1024 / 1024
function rss (): number {
  gc?.()
  return process.memoryUsage().rss
}

// Warm-up: keys fetched, code optimised, a first cache's worth of entries.
for (let i = 0; i < 20_000; i++) {
  const token = mint(-1 - i)
  await present(token)
  await present(token)
}
const start = rss()
const started = performance.now()
process.stdout.write(`start: RSS ${mib(start).toFixed(1)} MiB, ${total.toLocaleString('en-US')} distinct tokens, each presented twice\n`)
let peak = start
const batch = 1000
for (let sent = 0; sent < total;) {
  const tokens = Array.from({ length: batch }, (_, k) => mint(sent + k))
  for (const token of tokens) {
    await present(token)
    await present(token)
  }
  sent += batch
  if (sent % 100_000 === 0) {
    const now = rss()
    peak = Math.max(peak, now)
    process.stdout.write(`${sent.toLocaleString('en-US').padStart(9)} tokens: RSS ${mib(now).toFixed(1)} MiB (${mib(now - start) >= 0 ? '+' : ''}${mib(now - start).toFixed(1)}), heap ${mib(process.memoryUsage().heapUsed).toFixed(1)} MiB, ${Math.round((performance.now() - started) / 1000)} s\n`)
  }
}
const end = rss()
peak = Math.max(peak, end)
await app.close()
await issuer.close()
const growth = mib(peak - start)
process.stdout.write(`end: RSS ${mib(end).toFixed(1)} MiB; largest growth ${growth.toFixed(1)} MiB (limit ${limitMiB} MiB): ${growth <= limitMiB ? 'ok' : 'FAILED'}\n`)
process.exit(growth <= limitMiB ? 0 : 1)
