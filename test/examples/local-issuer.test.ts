/**
 * Every example runs with no tenant at all: started as a program with an empty environment, it
 * serves against a local test issuer and prints curl lines, each of which must answer as its label
 * says when run with the real curl.
 */
import { readdirSync } from 'node:fs'
import t from 'tap'
import { curlStatus, labelledCommands } from '../helpers/curl-lines.js'
import { compileExamples, startExample } from '../helpers/example-process.js'

/** The statuses each example's printed lines are labelled with, in order. */
const printed: Record<string, number[]> = {
  basic: [200, 200, 401, 401],
  'scopes-and-permissions': [200, 403, 403, 200, 200, 200, 200, 200, 403],
  'custom-claims-typing': [200, 403, 200],
  'behind-a-proxy': [200, 403, 200],
  'multiple-domains': [200, 200, 401],
  swagger: [200, 200, 401],
  metrics: [200, 401, 403, 200]
}

t.test('every example that serves an API is listed', async (t) => {
  const dirs = readdirSync(new URL('../../examples/', import.meta.url), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
  // dpop-client is a client and its API in one run, with its own local issuer (dpop-client.test.ts);
  // websocket, mtls and egress-proxy need a TLS client, a proxy or a WebSocket, not curl lines
  // (runnable-transports.test.ts runs them as programs against their local issuer); hs256,
  // encrypted-tokens (keys-programs.test.ts) and organizations-and-step-up run their curl lines in
  // their own tests, with the secret, the decryption key or the step-up login they need.
  const ownProgramTests = new Set(['dpop-client', 'websocket', 'mtls', 'egress-proxy', 'hs256', 'encrypted-tokens', 'organizations-and-step-up'])
  t.same(dirs.filter((d) => !ownProgramTests.has(d)).sort(), Object.keys(printed).sort())
})

// A compile and a dozen programs started one after the other: more than tap's default budget.
t.setTimeout(240_000)
await compileExamples()

for (const [name, statuses] of Object.entries(printed)) {
  t.test(name, async (t) => {
    const { out } = await startExample(t, name, {})
    t.match(out, /# No tenant configured .*: a local test issuer at http:\/\/127\.0\.0\.1:\d+\/ signs the tokens below/)
    const lines = labelledCommands(out)
    t.same(lines.map((l) => l.expected), statuses, 'the labelled outcomes')
    for (const { expected, what, command } of lines) t.equal(await curlStatus(command), expected, `${expected}: ${what}`)
  })
}
