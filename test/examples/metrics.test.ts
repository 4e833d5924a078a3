/**
 * examples/metrics: real requests through the built package, then /metrics read back and parsed
 * as Prometheus text: each verification counted once with its outcome and reason, the
 * histogram observed once per verification, key fetches counted, and no token or claim value in
 * the output.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildMetrics } from '../../examples/metrics/index.js'

/** `name{labels} value` lines of a Prometheus text exposition, as [name, labels, value]. */
function samples (text: string): Array<[string, Record<string, string>, number]> {
  const out: Array<[string, Record<string, string>, number]> = []
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string
    out.push([m[1] as string, labels, Number(m[3])])
  }
  return out
}

t.test('metrics: verifications, durations and key events as Prometheus metrics', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildMetrics({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })

  const token = await issuer.token({ sub: 'auth0|metrics-user', scope: 'read:messages' })
  const expired = await issuer.token({ sub: 'auth0|metrics-user' }, { expiresIn: -60 })
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/api/private', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/messages', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/private' })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/private', headers: { authorization: `Bearer ${expired}` } })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/messages', headers: { authorization: `Bearer ${await issuer.token()}` } })).statusCode, 403)
  t.equal((await app.inject({ url: '/api/public' })).statusCode, 200)

  const res = await app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const all = samples(res.body)
  const count = (name: string, labels: Record<string, string>): number =>
    all.filter(([n, l]) => n === name && Object.entries(labels).every(([k, v]) => l[k] === v)).reduce((sum, [, , v]) => sum + v, 0)

  const iss = issuer.issuer
  t.equal(count('auth0_verifications_total', { outcome: 'accepted', route: '/api/private', cached: 'false', issuer: iss, scheme: 'bearer' }), 2)
  t.equal(count('auth0_verifications_total', { outcome: 'accepted', route: '/api/private', cached: 'true' }), 1, 'the third sight of a token comes from the cache')
  t.equal(count('auth0_verifications_total', { outcome: 'accepted', route: '/api/messages' }), 1)
  t.equal(count('auth0_verifications_total', { outcome: 'refused', reason: 'credentials_missing', scheme: 'none', route: '/api/private' }), 1)
  t.equal(count('auth0_verifications_total', { outcome: 'refused', reason: 'token_expired', route: '/api/private', issuer: '' }), 1, 'no issuer on a refusal')
  t.equal(count('auth0_verifications_total', { outcome: 'refused', reason: 'insufficient_scope', route: '/api/messages' }), 1)
  t.equal(count('auth0_verifications_total', {}), 7, 'one per verification, none for the public route')
  t.equal(count('auth0_verification_duration_seconds_count', {}), 7, 'one duration per verification, synchronous or not')
  t.equal(count('auth0_verification_duration_seconds_count', { outcome: 'refused' }), 3)
  t.ok(count('auth0_verification_duration_seconds_sum', {}) > 0)
  t.equal(count('auth0_key_events_total', { type: 'fetched', document: 'discovery' }), 1)
  t.equal(count('auth0_key_events_total', { type: 'fetched', document: 'jwks' }), 1)
  for (const secret of [token, expired, 'auth0|metrics-user', ...token.split('.')]) t.notOk(res.body.includes(secret), 'no token or claim value in /metrics')

  await app.close()
  const after = await createTestIssuer()
  const second = await buildMetrics({ issuerBaseURL: after.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await second.close(); await after.close() })
  t.equal((await second.inject({ url: '/api/private' })).statusCode, 401)
  t.equal(count('auth0_verifications_total', {}), 7)
  const fresh = samples((await second.inject({ url: '/metrics' })).body)
  t.equal(fresh.filter(([n]) => n === 'auth0_verifications_total').reduce((s, [, , v]) => s + v, 0), 1, 'a closed app unsubscribed: only the new app counts')
})
