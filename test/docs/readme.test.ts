/**
 * The README stays true to the code: every failure reason the code can produce is listed (and
 * every listed reason exists), every plugin option is documented, every example listed exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import t from 'tap'

const root = new URL('../../', import.meta.url)
const readme = readFileSync(new URL('README.md', root), 'utf8')

function libSources (dir = new URL('lib/', root)): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => entry.isDirectory()
    ? libSources(new URL(`${entry.name}/`, dir))
    : entry.name.endsWith('.ts') ? [readFileSync(new URL(entry.name, dir), 'utf8')] : [])
}
const sources = libSources()

function section (heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`)
  if (start === -1) throw new Error(`README has no "${heading}"`)
  const end = readme.indexOf('\n## ', start + heading.length + 2)
  return readme.slice(start, end === -1 ? undefined : end)
}

t.test('failure reasons: the README table (and docs/*.md tables) and the code agree', async (t) => {
  const table = section('## Errors').split('| reason | status |')[1]?.split('\n\n')[0] ?? ''
  // Parenthesised notes name other things (`audience`, `crit`, or examples of a family): not reasons.
  const listed = new Set([...table.replace(/\([^)]*\)/g, '').matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1] as string))
  t.ok(listed.size > 20, 'the reasons table is found')
  // The DPoP section lists its reasons in its own table.
  const docs = new Set<string>()
  const dpopErrors = section('### DPoP errors')
  t.ok(dpopErrors.length > 100, 'the DPoP errors table is found')
  for (const line of dpopErrors.split('\n')) if (line.startsWith('|')) for (const m of line.matchAll(/`([a-z0-9_]+)`/g)) docs.add(m[1] as string)

  // Reasons the code creates: AuthError constructors, the fixed ones in errors.ts, and the claim table.
  const thrown = new Set<string>()
  for (const source of sources) {
    for (const m of source.matchAll(/(?:InvalidTokenError|InvalidRequestError|InvalidDpopProofError|UseDpopNonceError|IssuerUnavailableError|InternalAuthError|super)\(\s*'([a-z0-9_]+)'/g)) thrown.add(m[1] as string)
  }
  const claims = readFileSync(new URL('lib/jwt/claims.ts', root), 'utf8')
  for (const m of claims.matchAll(/\[\s*'([a-z0-9_]+)',\s*'[^']*'\s*\]/g)) thrown.add(m[1] as string)

  t.same([...thrown].filter((r) => !listed.has(r) && !docs.has(r)).sort(), [], 'every reason the code produces is documented')
  const literals = sources.join('\n')
  t.same([...listed].filter((r) => !literals.includes(`'${r}'`)).sort(), [], 'every reason in the README exists in the code')
})

t.test('every plugin option is documented in the Options section', async (t) => {
  const types = readFileSync(new URL('lib/types.ts', root), 'utf8')
  const body = /export interface Auth0PluginOptions \{([\s\S]*?)\n\}/.exec(types)?.[1] ?? ''
  const options = [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1] as string)
  t.ok(options.length > 15)
  const documented = section('## Options')
  t.same(options.filter((name) => !new RegExp(`\`${name}[.:\` ]`).test(documented)), [])
})

t.test('every example in the README exists', async (t) => {
  const listed = [...section('## Examples').matchAll(/`examples\/([\w-]+)`/g)].map((m) => m[1] as string)
  t.ok(listed.length >= 6)
  for (const name of listed) t.ok(existsSync(new URL(`examples/${name}/index.ts`, root)), `examples/${name}`)
})
