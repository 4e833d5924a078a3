/**
 * examples/dpop-client: oauth4webapi's DPoP handle against the plugin in DPoP-required mode with
 * nonces on, over a real listening server.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildDpopApi, createDpopClient } from '../../examples/dpop-client/index.js'
import { compileExamples } from '../helpers/example-process.js'
import { expectGrammar } from '../helpers/expect.js'

const AUDIENCE = 'https://api.example.com/'

t.test('dpop-client: nonce challenge, retry, then 200; bearer and foreign keys refused', async (t) => {
  const issuer = await createTestIssuer({ audience: AUDIENCE })
  const app = await buildDpopApi({ issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  const client = await createDpopClient()
  const token = await issuer.token({ scope: 'read:messages' }, { dpopKey: { jkt: client.jkt } })

  const first = await client.get(`${base}/api/messages`, token)
  t.equal(first.status, 200)
  t.equal(first.nonceRetried, true, 'the first call learns the nonce from a use_dpop_nonce challenge')
  t.same(first.body, { user: 'test-user', scheme: 'dpop', jkt: client.jkt })

  const second = await client.get(`${base}/api/messages`, token)
  t.equal(second.status, 200)
  t.equal(second.nonceRetried, false, 'the cached nonce is sent on the next call')

  const thief = await createDpopClient()
  const stolen = await thief.get(`${base}/api/messages`, token)
  t.equal(stolen.status, 401, 'a stolen token with another key is refused')
  t.equal((stolen.body as { detail: { error: string } }).detail.error, 'invalid_token')

  const unscoped = await client.get(`${base}/api/messages`, await issuer.token({}, { dpopKey: { jkt: client.jkt } }))
  t.equal(unscoped.status, 403)
  t.same(unscoped.body, { detail: { error: 'insufficient_scope', error_description: 'missing scope read:messages' } })

  const bearer = await fetch(`${base}/api/messages`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(bearer.status, 400, 'Bearer is refused on a DPoP-required API')
  t.equal(bearer.headers.get('www-authenticate')?.startsWith('DPoP '), true)
  expectGrammar(t, { statusCode: bearer.status, headers: { 'www-authenticate': bearer.headers.get('www-authenticate') ?? undefined }, body: await bearer.text() })
})

t.test('dpop-client runs as a program', async (t) => {
  const root = new URL('../../', import.meta.url).pathname
  await compileExamples()
  const { stdout } = await promisify(execFile)(process.execPath, ['.build/examples/dpop-client/index.js'], { cwd: root, env: { ...process.env, NODE_V8_COVERAGE: undefined, NODE_OPTIONS: undefined, NODE_ENV: 'test' } })
  const result = JSON.parse(stdout.trim()) as { status: number, nonceRetried: boolean }
  t.equal(result.status, 200)
  t.equal(result.nonceRetried, true)
})
