/**
 * Type test: `tsc` on a small fixture project that imports the package by its name,
 * `fastify-auth0-api`, mapped to this repository's sources with `paths` (no build needed).
 *
 * - `positive.ts` must compile: `request.claims.sub` is `string`, a custom claim added by
 *   declaration merging is `string[] | undefined`, bad `requireAuth` options are type errors.
 * - `negative.ts` must fail at exactly the lines marked `// error`: the assertions can fail.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')
const lib = fileURLToPath(new URL('../../lib/', import.meta.url))

const helpers = `
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
export function assertType<T extends true> (): T | undefined { return undefined }
`

const positive = `
import Fastify from 'fastify'
import auth0Plugin, { type AccessTokenClaims, type AuthInfo, InvalidTokenError, type RequireAuthHook } from 'fastify-auth0-api'
import { assertType, type Equal } from './helpers.js'

declare module 'fastify-auth0-api' {
  interface AccessTokenClaims {
    'https://example.com/roles'?: string[]
  }
}

const app = Fastify()
await app.register(auth0Plugin, { domain: 'tenant.example.com', audience: 'https://api.example.com/' })

app.get('/private', { preHandler: app.requireAuth('read:messages') }, async (request) => {
  type Claims = typeof request.claims
  assertType<Equal<Claims['sub'], string>>()
  assertType<Equal<Claims['https://example.com/roles'], string[] | undefined>>()
  assertType<Equal<Claims['permissions'], string[] | undefined>>()
  assertType<Equal<Claims['scope'], string | string[] | undefined>>()
  assertType<Equal<typeof request.auth, AuthInfo | undefined>>()
  const roles: string[] = request.claims['https://example.com/roles'] ?? []
  return { sub: request.claims.sub.toUpperCase(), roles }
})
app.get('/admin', { onRequest: app.requireAuth({ scopes: ['admin', 'owner'], match: 'any', claim: 'permissions' }) }, async () => ({}))
// The hook as a global hook, and awaited by hand (two arguments: a promise) in an app's own hook.
const hook: RequireAuthHook = app.requireAuth()
app.addHook('onRequest', app.requireAuth())
app.addHook('preHandler', async function (request, reply) {
  const settled: Promise<void> = hook.call(this, request, reply)
  await settled
})

// @ts-expect-error match is 'all' or 'any'
app.requireAuth({ scopes: 'x', match: 'nope' })
// @ts-expect-error unknown option
app.requireAuth({ scope: 'x' })
// @ts-expect-error dpop can only be 'required'
app.requireAuth({ dpop: 'disabled' })
// @ts-expect-error audience is a string or a list of strings
await Fastify().register(auth0Plugin, { audience: 42 })

const claims: AccessTokenClaims = await app.auth0.verify({ method: 'GET', url: '/', headers: {} }, ['read:messages'])
assertType<Equal<typeof claims['https://example.com/roles'], string[] | undefined>>()
try {
  await app.auth0.verify({ method: 'GET', url: '/', headers: {} })
} catch (err) {
  if (err instanceof InvalidTokenError) {
    assertType<Equal<typeof err.statusCode, 401>>()
    const header: string | undefined = err.headers['www-authenticate']
    void header
  }
}
`

// Each line marked "// error" must be reported, and nothing else in this file.
const negative = `
import Fastify from 'fastify'
import auth0Plugin from 'fastify-auth0-api'
import { assertType, type Equal } from './helpers.js'

const app = Fastify()
await app.register(auth0Plugin, { domain: 'tenant.example.com', audience: 'https://api.example.com/' })
app.get('/x', async (request) => {
  type Claims = typeof request.claims
  assertType<Equal<Claims['sub'], string | undefined>>() // error
  assertType<Equal<Claims['https://example.com/roles'], unknown>>() // error
  assertType<Equal<Claims['https://example.com/other'], string[] | undefined>>() // error
  return {}
})
// @ts-expect-error: a valid call, so this directive is unused // error
app.requireAuth({ scopes: 'x', match: 'any' })
`

t.test('tsc on a fixture project that imports fastify-auth0-api', async (t) => {
  const dir = t.testdir({
    'package.json': JSON.stringify({ type: 'module' }),
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        paths: { 'fastify-auth0-api': [`${lib}index.ts`] }
      },
      files: ['helpers.ts', 'positive.ts', 'negative.ts']
    }),
    'helpers.ts': helpers,
    'positive.ts': positive,
    'negative.ts': negative
  })
  const run = spawnSync(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: dir, encoding: 'utf8' })
  const output = `${run.stdout}${run.stderr}`
  const errors = output.split('\n').filter((line) => /error TS\d+/.test(line))
  // On failure the diff shows the unexpected diagnostics themselves.
  t.strictSame(errors.filter((line) => !line.startsWith('negative.ts(')), [], 'positive.ts compiles')

  const expected = negative.split('\n').flatMap((line, i) => line.endsWith('// error') ? [i + 1] : [])
  const reported = [...new Set(errors.filter((line) => line.startsWith('negative.ts(')).map((line) => Number(/^negative\.ts\((\d+),/.exec(line)?.[1])))]
  if (!t.strictSame(reported.sort((a, b) => a - b), expected, 'negative.ts fails exactly at the lines marked "// error"')) t.comment(output)
})
