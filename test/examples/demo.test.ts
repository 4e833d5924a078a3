/**
 * The README's first command: `npm run demo` prints curl lines whose labels must be true.
 * This runs the compiled demo as a real process and the printed commands with the real curl.
 */
import { spawn } from 'node:child_process'
import t from 'tap'
import { curlStatus, labelledCommands } from '../helpers/curl-lines.js'
import { compileExamples } from '../helpers/example-process.js'

const root = new URL('../../', import.meta.url).pathname

t.test('npm run demo prints curl lines that answer as labelled', async (t) => {
  await compileExamples()
  const child = spawn(process.execPath, ['.build/examples/demo.js'], {
    cwd: root,
    // Not instrumented: the compiled demo is not library code, and its coverage must not reach tap's report.
    env: { ...process.env, NODE_V8_COVERAGE: undefined, NODE_OPTIONS: undefined, PORT: '0', AUTH0_DOMAIN: '', NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  // The server log: pino's JSON lines on stderr.
  let log = ''
  child.stderr.on('data', (chunk: Buffer) => { log += chunk.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes('# Ctrl-C to stop.')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`demo exited early with ${String(code)}: ${out}`)))
  })
  const checks = labelledCommands(out)
  t.same(checks.map((c) => c.expected), [200, 403, 401, 401], 'one line per labelled outcome')
  for (const { expected, command } of checks) {
    t.match(command, /^curl -i /, 'a ready-to-paste curl command on one line')
    t.equal(await curlStatus(command), expected, `${command.slice(0, 60)}… answers ${expected}`)
  }

  // Each refusal is logged at info with its machine reason, and no log line holds a token.
  const entries = log.trim().split('\n').map((line) => JSON.parse(line) as { level: number, msg: string, reason?: string, statusCode?: number })
  const refusals = entries.filter((e) => e.msg === 'fastify-auth0-api: authentication failed')
  t.same(refusals.map((e) => [e.level, e.reason, e.statusCode]), [[30, 'insufficient_scope', 403], [30, 'token_expired', 401], [30, 'credentials_missing', 401]], 'one info line per refusal, naming its reason')
  const tokens = checks.flatMap(({ command }) => [.../Bearer ([\w.-]+)/.exec(command) ?? []].slice(1))
  t.equal(tokens.length, 3, 'three tokens were printed')
  for (const token of tokens) {
    t.notOk(log.includes(token), 'no token in the log')
    t.notOk(log.includes(token.split('.')[2] as string), 'not even its signature')
  }
  child.removeAllListeners('exit')
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGINT')
  t.equal(await exited, 0, 'Ctrl-C stops it cleanly')
})
