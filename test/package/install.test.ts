/**
 * A package that installs, tried as a user would:
 *
 * 1. a fresh copy of the repository (`git archive` of the working tree's tracked files: no dist/,
 *    no build output), with this checkout's node_modules linked in place of `npm ci`;
 * 2. `npm pack` there: the `prepare` script must build dist/, and the tarball must hold dist/,
 *    README.md, LICENSE, CHANGELOG.md and package.json only, and every entry point `exports`
 *    declares;
 * 3. the tarball installed into a throw-away application with another Fastify 5 minor than this
 *    repository's, which `tsc` type-checks (declaration merging against the app's own Fastify)
 *    and which then runs against the testing kit's issuer.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)
const require = createRequire(import.meta.url)
const root = new URL('../../', import.meta.url).pathname
const tsc = require.resolve('typescript/bin/tsc')
const typeRoots = join(root, 'node_modules/@types')

/** The oldest Fastify 5 minor the peer range (`^5.0.0`) admits: the repository develops on 5.12. */
const OTHER_FASTIFY = '5.0.0'

// npm install from the registry (or its cache) and two builds: more than tap's default budget.
t.setTimeout(600_000)

// Spawned processes run uninstrumented: nothing in the temporary directory is this library's source.
const env = { ...process.env, NODE_V8_COVERAGE: undefined, NODE_OPTIONS: undefined, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }

const work = await mkdtemp(join(tmpdir(), 'fastify-auth0-api-install-'))
t.teardown(async () => { await rm(work, { recursive: true, force: true }) })
const source = join(work, 'fastify-auth0-api')
const app = join(work, 'app')

interface PackResult { filename: string, files: Array<{ path: string }> }

let tarball = ''

t.test('a fresh copy packs with dist/ built by prepare, and nothing else but the docs', async (t) => {
  // The working tree as committed plus uncommitted changes to tracked files (`git stash create`
  // records them without touching the checkout); HEAD when the tree is clean.
  // Outside a git checkout (a source tarball), a copy without what a build or install adds.
  await mkdir(source)
  const stash = await run('git', ['stash', 'create'], { cwd: root }).then(({ stdout }) => stdout.trim() === '' ? 'HEAD' : stdout.trim(), () => undefined)
  await run('bash', ['-c', stash !== undefined
    ? `git archive --format=tar ${stash} | tar -x -C "${source}"`
    : `tar -c --exclude=./node_modules --exclude=./dist --exclude=./.build --exclude=./.tap --exclude=./coverage . | tar -x -C "${source}"`], { cwd: root })
  await symlink(join(root, 'node_modules'), join(source, 'node_modules'), 'dir')
  await t.rejects(readFile(join(source, 'dist/index.js')), 'the copy has no dist/')

  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: source, env, maxBuffer: 16 * 1024 * 1024 })
  // npm prints the lifecycle scripts' output before the JSON.
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as PackResult[]
  if (packed === undefined) throw new Error(`npm pack printed no result: ${stdout}`)
  tarball = join(work, packed.filename)
  const files = packed.files.map((file) => file.path).sort()

  t.ok(files.includes('dist/index.js'), 'prepare built dist/')
  t.same(files.filter((path) => !path.startsWith('dist/')), ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'], 'besides dist/: README, LICENSE, CHANGELOG, package.json')
  t.same(files.filter((path) => path.startsWith('dist/') && !/\.(js|d\.ts)$/.test(path)), [], 'dist/ holds JavaScript and declarations only')

  // Every target `exports` names (each condition, each entry) is in the tarball.
  const manifest = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>>, types: string, license: string }
  const targets = [manifest.types, ...Object.values(manifest.exports).flatMap((target) => typeof target === 'string' ? [target] : Object.values(target))]
  t.ok(targets.length >= 7, 'the exports map is read')
  for (const target of targets) t.ok(files.includes(target.replace(/^\.\//, '')), `${target} is in the tarball`)
  t.equal(manifest.license, 'MIT')
  t.match(await readFile(join(source, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} fastify-auth0-api contributors\n/)
})

t.test(`installed into an application on Fastify ${OTHER_FASTIFY}: type-checks and runs`, async (t) => {
  if (tarball === '') throw new Error('no tarball: the packing test failed')
  await mkdir(app)
  await writeFile(join(app, 'package.json'), JSON.stringify({
    name: 'throw-away-app',
    private: true,
    type: 'module',
    dependencies: { fastify: OTHER_FASTIFY, 'fastify-auth0-api': `file:${tarball}` }
  }, null, 2))
  await run('npm', ['install', '--prefer-offline', '--no-package-lock'], { cwd: app, env, maxBuffer: 16 * 1024 * 1024 })
  const installed = JSON.parse(await readFile(join(app, 'node_modules/fastify/package.json'), 'utf8')) as { version: string }
  t.equal(installed.version, OTHER_FASTIFY, 'the application has its own Fastify')
  await t.rejects(readFile(join(app, 'node_modules/fastify-auth0-api/node_modules/fastify/package.json')), 'and the plugin no copy of its own')

  await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      outDir: 'build',
      // @types/node from this checkout: the app installs nothing but Fastify and the plugin.
      typeRoots: [typeRoots],
      types: ['node']
    },
    include: ['app.ts']
  }, null, 2))
  await writeFile(join(app, 'app.ts'), APP)
  const checked = await run(process.execPath, [tsc, '-p', app], { cwd: app, env }).then(() => '', (err: { stdout: string }) => err.stdout)
  t.equal(checked, '', 'tsc finds no error')

  const { stdout } = await run(process.execPath, [join(app, 'build/app.js')], { cwd: app, env: { ...env, NODE_ENV: 'test' } })
  t.same(JSON.parse(stdout), {
    granted: [200, { user: 'auth0|someone', roles: ['editor'] }],
    missingScope: 403,
    none: 401,
    required: 'function'
  })
})

/** The application: ESM TypeScript, importing the package by name, with a custom claim. */
const APP = `
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import auth0Plugin, { type AccessTokenClaims } from 'fastify-auth0-api'
import { createTestIssuer } from 'fastify-auth0-api/testing'

declare module 'fastify-auth0-api' {
  interface AccessTokenClaims {
    'https://example.com/roles'?: string[]
  }
}

const roles = (claims: AccessTokenClaims): string[] => claims['https://example.com/roles'] ?? []

const issuer = await createTestIssuer()
const app = Fastify()
await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => {
  const sub: string = request.claims.sub
  return { user: sub, roles: roles(request.claims) }
})

const call = async (token?: string) => await app.inject({ url: '/api/messages', headers: token === undefined ? {} : { authorization: 'Bearer ' + token } })
const granted = await call(await issuer.token({ sub: 'auth0|someone', scope: 'read:messages', 'https://example.com/roles': ['editor'] }))
const result = {
  granted: [granted.statusCode, granted.json()],
  missingScope: (await call(await issuer.token())).statusCode,
  none: (await call()).statusCode,
  required: typeof createRequire(import.meta.url)('fastify-auth0-api')
}
await app.close()
await issuer.close()
console.log(JSON.stringify(result))
`
