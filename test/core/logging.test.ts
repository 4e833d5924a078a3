/**
 * SPEC §4: descriptions and logs never carry a token. Failures are logged with their reason
 * (4xx at info, 503 at warn, 500 at error) and the request id; nothing in them is a token.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import auth0Plugin from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { expectInternal, expectUnavailable } from '../helpers/expect.js'

interface LogLine { level: number, reqId?: string, msg: string, reason?: string, statusCode?: number, err?: { message: string, stack?: string }, [k: string]: unknown }

async function setup (t: import('tap').Test): Promise<{ app: ReturnType<typeof Fastify>, issuer: Awaited<ReturnType<typeof createTestIssuer>>, raw: string[], lines: () => LogLine[] }> {
  const raw: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString())
      callback()
    }
  })
  const issuer = await createTestIssuer()
  const app = Fastify({ logger: { level: 'trace', stream } })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, cache: { failureBackoff: 0 } })
  app.get('/private', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => {
    await app.close()
    await issuer.close()
  })
  return { app, issuer, raw, lines: () => raw.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogLine) }
}

/** Every 20-character window of the token's signature and payload, and the token itself. */
function secrets (token: string): string[] {
  const out = [token]
  for (const part of token.split('.').slice(1)) {
    for (let i = 0; i + 20 <= part.length; i++) out.push(part.slice(i, i + 20))
  }
  return out
}

t.test('no log line contains a token, good or bad', async (t) => {
  const { app, issuer, raw, lines } = await setup(t)
  const foreign = await issuer.foreignKey()
  const tokens = [
    await issuer.token({ scope: 'read:messages' }), // 200
    await issuer.token({ scope: 'other' }), // 403
    await issuer.token({}, { expiresIn: -60 }), // 401 expired
    await issuer.token({ scope: 'read:messages' }, { signingKey: foreign.privateKey }), // 401 signature
    await issuer.token({ scope: 'read:messages' }, { signingKey: foreign.privateKey, header: { kid: 'unknown-kid' } }), // 401 kid
    await issuer.token({ aud: 'https://other.example/' }), // 401 aud
    await issuer.token({ iss: 'https://evil.example/' }), // 401 iss
    `${await issuer.token()}==`, // 401 padded
    `${'x'.repeat(17000)}` // 401 too large
  ]
  const statuses = []
  for (const token of tokens) {
    statuses.push((await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })).statusCode)
  }
  // Malformed headers carrying a token-like value.
  statuses.push((await app.inject({ url: '/private', headers: { authorization: `Bearer ${tokens[0] as string} extra` } })).statusCode)
  statuses.push((await app.inject({ url: '/private', headers: { authorization: `Basic ${tokens[0] as string}` } })).statusCode)
  t.strictSame(statuses, [200, 403, 401, 401, 401, 401, 401, 401, 401, 400, 401])

  const all = raw.join('')
  for (const token of tokens) {
    const leaked = secrets(token).find((s) => all.includes(s))
    t.equal(leaked, undefined, `no part of a ${token.length}-character token is logged`)
  }
  // The failures are logged, with their reason and the request id: the check above is not vacuous.
  const failures = lines().filter((l) => l.msg === 'fastify-auth0-api: authentication failed')
  t.equal(failures.length, 10)
  t.strictSame(failures.map((l) => l.reason), ['insufficient_scope', 'token_expired', 'signature_invalid', 'kid_not_found', 'audience_mismatch', 'issuer_not_allowed', 'malformed', 'token_too_large', 'authorization_header_malformed', 'authorization_scheme_unsupported'])
  for (const line of failures) {
    t.equal(line.level, 30, 'info')
    t.match(line.reqId, /^req-/)
  }
  t.ok(lines().some((l) => l.msg === 'fastify-auth0-api: fetched discovery'), 'debug events are logged too')
})

t.test('a 500 is logged at error with the request id and the cause, and answers no detail', async (t) => {
  const { app, issuer, raw, lines } = await setup(t)
  issuer.setDiscovery({ issuer: 'https://someone-else.example/' })
  const token = await issuer.token({ scope: 'read:messages' })
  const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
  expectInternal(t, res)
  const line = lines().find((l) => l.level === 50)
  t.ok(line, 'an error line')
  t.equal(line?.msg, 'fastify-auth0-api: discovery_issuer_mismatch')
  t.equal(line?.reason, 'discovery_issuer_mismatch')
  const incoming = lines().find((l) => l.msg === 'incoming request')
  t.match(incoming?.reqId, /^req-/)
  t.equal(line?.reqId, incoming?.reqId, 'the request id of the failing request')
  t.match(line?.err?.message, /names issuer "https:\/\/someone-else\.example\/", expected/)
  t.equal(secrets(token).find((s) => raw.join('').includes(s)), undefined)
})

t.test('a 503 is logged at warn with the reason; the fetch failure too', async (t) => {
  const { app, issuer, raw, lines } = await setup(t)
  issuer.outage({ jwks: 'status-503' })
  const token = await issuer.token({ scope: 'read:messages' })
  const res = await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
  expectUnavailable(t, res)
  const warn = lines().filter((l) => l.level === 40)
  t.strictSame(warn.map((l) => l.msg), ['fastify-auth0-api: key fetch failed', 'fastify-auth0-api: issuer_unavailable'])
  t.match(warn[1]?.reqId, /^req-/)
  t.equal(secrets(token).find((s) => raw.join('').includes(s)), undefined)
})
