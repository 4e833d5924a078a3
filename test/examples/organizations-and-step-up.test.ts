/**
 * examples/organizations-and-step-up: in process against a test issuer, and as a program in its
 * default mode (no AUTH0_* variables: its own local test issuer and the curl commands it prints).
 */
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildOrganizationsAndStepUp, MFA, NAMESPACE } from '../../examples/organizations-and-step-up/index.js'
import { expectGrammar } from '../helpers/expect.js'

const root = new URL('../../', import.meta.url).pathname

t.test('organizations, step-up and a claim check, in process', async (t) => {
  const issuer = await createTestIssuer()
  const app = await buildOrganizationsAndStepUp({ issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })
  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, claims: Record<string, unknown>): Promise<{ status: number, body: Record<string, unknown>, challenge: string | undefined }> => {
    const res = await app.inject({ method, url, headers: { authorization: `Bearer ${await issuer.token(claims)}` } })
    expectGrammar(t, res)
    return { status: res.statusCode, body: res.json(), challenge: res.headers['www-authenticate'] as string | undefined }
  }
  const member = { org_id: 'org_acme', scope: 'read:projects write:billing', azp: 'spa-client' }
  const mfa = { [`${NAMESPACE}acr`]: MFA, [`${NAMESPACE}auth_time`]: Math.floor(Date.now() / 1000) }

  t.same((await call('GET', '/api/me', { sub: 'auth0|1' })).body, { sub: 'auth0|1', organization: null, client: null }, 'no organization needed on /api/me')
  t.same((await call('GET', '/api/me', member)).body, { sub: 'test-user', organization: 'org_acme', client: 'spa-client' })

  t.same(await call('GET', '/orgs/org_acme/projects', member), { status: 200, body: { organization: 'org_acme', projects: ['apollo', 'gemini'] }, challenge: undefined })
  const other = await call('GET', '/orgs/org_globex/projects', member)
  t.equal(other.status, 401)
  t.same(other.body, { detail: { error: 'invalid_token', error_description: 'token organization is not allowed here' } })
  const none = await call('GET', '/orgs/org_acme/projects', { scope: 'read:projects' })
  t.same(none.body, { detail: { error: 'invalid_token', error_description: 'token has no organization (org_id) and this API requires one' } })

  const weak = await call('POST', '/orgs/org_acme/billing', member)
  t.equal(weak.status, 401)
  t.equal(weak.challenge, `Bearer realm="api", error="insufficient_user_authentication", error_description="token does not state how the user logged in (${NAMESPACE}acr); this route needs a login with acr ${MFA}", acr_values="${MFA}", max_age="300", DPoP algs="ES256"`)
  const stale = await call('POST', '/orgs/org_acme/billing', { ...member, ...mfa, [`${NAMESPACE}auth_time`]: 1 })
  t.match(stale.challenge, /error="insufficient_user_authentication", error_description="a more recent login is required: within 300 seconds"/)
  t.same((await call('POST', '/orgs/org_acme/billing', { ...member, ...mfa })).body, { organization: 'org_acme', updated: true })

  const notAdmin = await call('DELETE', '/orgs/org_acme', { ...member, ...mfa })
  t.equal(notAdmin.status, 403)
  t.same(notAdmin.body, { detail: { error: 'insufficient_scope', error_description: `claim ${NAMESPACE}roles must include admin` } })
  t.same((await call('DELETE', '/orgs/org_acme', { ...member, ...mfa, [`${NAMESPACE}roles`]: ['admin'] })).body, { organization: 'org_acme', deleted: true })
})

t.test('as a program, by default against its own local test issuer', async (t) => {
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.examples.json'], { cwd: root })
  const child = spawn(process.execPath, ['.build/examples/organizations-and-step-up/index.js'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      // The last command printed: the DELETE.
      if (/\ncurl -i -X DELETE [^\n]*\n/.test(out)) resolve()
    })
    child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.once('exit', (code) => reject(new Error(`exited with ${String(code)}: ${out}`)))
  })
  // Each printed command, run with fetch: the status its comment announces.
  const lines = out.trim().split('\n')
  const commands = lines.filter((line) => line.startsWith('curl '))
  const expected = lines.filter((line) => /^# \d{3}/.test(line)).map((line) => Number(line.slice(2, 5)))
  t.equal(commands.length, 5)
  t.same(expected, [200, 401, 401, 200, 403])
  for (const [i, command] of commands.entries()) {
    const m = /^curl -i -X (\w+) -H 'Authorization: (Bearer \S+)' (\S+)$/.exec(command)
    t.ok(m, command.slice(0, 40))
    const res = await fetch(m?.[3] as string, { method: m?.[1], headers: { authorization: m?.[2] as string } })
    await res.body?.cancel()
    t.equal(res.status, expected[i], `${m?.[1]} ${m?.[3]}`)
  }
  child.removeAllListeners('exit')
})
