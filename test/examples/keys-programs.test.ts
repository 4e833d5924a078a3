/**
 * examples/hs256 and examples/encrypted-tokens as programs (a file of their own: each example
 * takes seconds to start, and test/examples/runnable.test.ts and local-issuer.test.ts are near
 * their time budget). Each runs twice, as runnable.test.ts and local-issuer.test.ts run the others:
 * - configured by the environment only against a tenant (here a local test issuer given by URL);
 * - with no tenant at all: its own local issuer, and the printed curl lines answer as labelled.
 */
import { request } from 'node:http'
import { createTestIssuer, decryptionKeyPair } from 'fastify-auth0-api/testing'
import t from 'tap'
import { curlStatus, labelledCommands } from '../helpers/curl-lines.js'
import { compileExamples, startExample } from '../helpers/example-process.js'

const AUDIENCE = 'https://api.example.com/'

async function get (url: string, token?: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode as number)) })
    req.on('error', reject)
    req.end()
  })
}

await compileExamples()

// Two programs at a time: each spends its start-up waiting on module loading.
t.test('against a tenant: hs256 with AUTH0_SIGNING_SECRET, encrypted-tokens with API_DECRYPTION_KEY', async (t) => {
  const hs = await createTestIssuer({ alg: 'HS256' })
  const rs = await createTestIssuer()
  const pair = decryptionKeyPair({ kid: 'enc-1' })
  t.teardown(async () => { await hs.close(); await rs.close() })
  const [hs256, encrypted] = await Promise.all([
    startExample(t, 'hs256', { AUTH0_ISSUER_BASE_URL: hs.issuerBaseURL, AUTH0_AUDIENCE: AUDIENCE, AUTH0_SIGNING_SECRET: hs.secret as string }),
    startExample(t, 'encrypted-tokens', { AUTH0_ISSUER_BASE_URL: rs.issuerBaseURL, AUTH0_AUDIENCE: AUDIENCE, API_DECRYPTION_KEY: pair.privateKeyPem, API_DECRYPTION_KID: 'enc-1' })
  ])
  t.notMatch(hs256.out, /local test issuer/)
  t.equal(await get(`${hs256.base}/api/private`, await hs.token()), 200, 'hs256: an HS256 token')
  t.equal(await get(`${hs256.base}/api/private`, await hs.token({}, { signingKey: (await hs.foreignKey()).privateKey })), 401, 'hs256: another secret')
  t.strictSame(hs.requests, { discovery: 0, jwks: 0 }, 'hs256: nothing fetched')
  t.notMatch(encrypted.out, /local test issuer/)
  t.equal(await get(`${encrypted.base}/api/private`, await rs.token({}, { encrypt: { publicKey: pair.publicKeyPem, kid: 'enc-1' } })), 200, 'encrypted-tokens: an encrypted token')
  t.equal(await get(`${encrypted.base}/api/private`, await rs.token()), 401, 'encrypted-tokens: a plain token refused')
})

t.test('with no tenant: each runs its own local issuer, and its curl lines answer as labelled', async (t) => {
  const expected: Record<string, number[]> = { hs256: [200, 200, 401], 'encrypted-tokens': [200, 401, 401] }
  const names = Object.keys(expected)
  const started = await Promise.all(names.map(async (name) => await startExample(t, name, {})))
  for (const [i, name] of names.entries()) {
    const { out } = started[i] as { out: string }
    t.match(out, /# No tenant configured .*: a local test issuer at http:\/\/127\.0\.0\.1:\d+\/ signs the tokens below/, name)
    const lines = labelledCommands(out)
    t.same(lines.map((l) => l.expected), expected[name], `${name}: the labelled outcomes`)
    for (const { expected: status, what, command } of lines) t.equal(await curlStatus(command), status, `${name} ${status}: ${what}`)
  }
})
