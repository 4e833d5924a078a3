/**
 * Runs a compiled example as a program, as a user would: `node .build/examples/<name>/index.js`
 * with exactly the environment given (no AUTH0_* from the developer's shell, no coverage hooks:
 * the compiled examples are not library code).
 */
import { execFile, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'

const run = promisify(execFile)
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
export const root = new URL('../../', import.meta.url).pathname

/**
 * Compiles examples/ to .build/examples (the package itself must be built: dist/). The build is
 * incremental (tsconfig.examples.json): the test files that need it each call this, and only the
 * first does the work while nothing has changed.
 */
export async function compileExamples (): Promise<void> {
  await run(process.execPath, [tsc, '-p', 'tsconfig.examples.json'], { cwd: root })
}

/** Starts the example; resolves once it has printed everything, up to `# Ctrl-C to stop.` */
export async function startExample (
  t: { teardown (fn: () => unknown): void },
  name: string,
  env: Record<string, string>
): Promise<{ base: string, out: string }> {
  const child = spawn(process.execPath, [`.build/examples/${name}/index.js`], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /Listening on (http:\/\/\S+)[\s\S]*# Ctrl-C to stop\./.exec(out)
      if (match !== null) resolve(match[1] as string)
    })
    child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.once('exit', (code) => reject(new Error(`${name} exited with ${String(code)}: ${out}`)))
  })
  child.removeAllListeners('exit')
  return { base, out }
}
