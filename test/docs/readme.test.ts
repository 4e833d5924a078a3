/**
 * The README and the guides in docs/ stay true to the code: every failure reason the code can
 * produce is in the README's reasons table (the complete list), every reason any table names
 * exists with the status it says, every plugin option is in the options table (and every row
 * names an option), every example is listed and exists, and the README stays short.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { codeNames, docsFiles, root, section, tables } from '../helpers/markdown.js'
import { members, pluginOptions } from '../helpers/option-types.js'

const files = docsFiles()
const readme = (files[0] as { text: string }).text

function libSources (dir = new URL('lib/', root)): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => entry.isDirectory()
    ? libSources(new URL(`${entry.name}/`, dir))
    : entry.name.endsWith('.ts') ? [readFileSync(new URL(entry.name, dir), 'utf8')] : [])
}
const sources = libSources()
const code = sources.join('\n')

/** The status of each AuthError class, following `extends` chains in lib/. */
function classStatuses (): Map<string, number> {
  const parent = new Map<string, string>()
  const own = new Map<string, number>()
  for (const m of code.matchAll(/class (\w+) extends (\w+) (?:\{\}|\{([\s\S]*?)\n\})/g)) {
    parent.set(m[1] as string, m[2] as string)
    const status = /readonly statusCode = (\d{3})/.exec(m[3] ?? '')
    if (status !== null) own.set(m[1] as string, Number(status[1]))
  }
  const statuses = new Map<string, number>()
  for (const name of parent.keys()) {
    let at: string | undefined = name
    const chain = new Set<string>()
    while (at !== undefined && !own.has(at) && !chain.has(at)) { chain.add(at); at = parent.get(at) }
    let ancestor: string | undefined = name
    while (ancestor !== undefined && ancestor !== 'AuthError') ancestor = parent.get(ancestor)
    if (ancestor === 'AuthError' && at !== undefined && own.has(at)) statuses.set(name, own.get(at) as number)
  }
  return statuses
}

/**
 * Reasons the code creates, with their status where it can be read: the first argument of an
 * AuthError constructor (`new InvalidTokenError('reason', …)`, `super('reason', …)` in errors.ts),
 * of a local helper whose first parameter is `reason` (`fail('proof_…')`, `badRequest('host_…')`,
 * its status that of the class it builds), and the reason/description pairs of the claim table.
 */
function codeReasons (): Map<string, Set<number | undefined>> {
  const statuses = classStatuses()
  const producers = new Map<string, number | undefined>(statuses)
  for (const source of sources) {
    for (const m of source.matchAll(/function (\w+) \(reason: string[^{]*\{([\s\S]{0,400}?)\n\}/g)) {
      const built = /new (\w+)\(/.exec(m[2] as string)?.[1]
      producers.set(m[1] as string, built === undefined ? undefined : statuses.get(built))
    }
  }
  const reasons = new Map<string, Set<number | undefined>>()
  const add = (reason: string, status: number | undefined): void => {
    const set = reasons.get(reason) ?? new Set()
    set.add(status)
    reasons.set(reason, set)
  }
  for (const source of sources) {
    for (const m of source.matchAll(/(?:new (\w+)|\b(\w+))\(\s*([^,()]*?'[a-z0-9_]+'[^,()]*?),/g)) {
      const name = (m[1] ?? m[2]) as string
      if (!producers.has(name)) continue
      for (const literal of (m[3] as string).matchAll(/'([a-z0-9_]+)'/g)) add(literal[1] as string, producers.get(name))
    }
  }
  const errors = readFileSync(new URL('lib/errors.ts', root), 'utf8')
  for (const m of errors.matchAll(/class (\w+)[^{]*\{[^}]*?super\('([a-z0-9_]+)'/g)) add(m[2] as string, statuses.get(m[1] as string))
  const claims = readFileSync(new URL('lib/jwt/claims.ts', root), 'utf8')
  for (const m of claims.matchAll(/\[\s*'([a-z0-9_]+)',\s*'[^']*'\s*\]/g)) add(m[1] as string, 401)
  return reasons
}

/** Every table with a `reason` column, in the README and docs/*.md: reason → statuses claimed, per file. */
function documentedReasons (): Array<{ path: string, reason: string, status: number | undefined }> {
  const out: Array<{ path: string, reason: string, status: number | undefined }> = []
  for (const file of files) {
    for (const table of tables(file.text)) {
      const at = table.header.indexOf('reason')
      if (at === -1) continue
      const statusAt = table.header.indexOf('status')
      for (const row of table.rows) {
        const status = statusAt === -1 ? undefined : /^\*{0,2}(\d{3})\b/.exec(row[statusAt] ?? '')?.[1]
        for (const reason of codeNames(row[at] ?? '')) out.push({ path: file.path, reason, status: status === undefined ? undefined : Number(status) })
      }
    }
  }
  return out
}

t.test('failure reasons: the README lists every one the code produces; no table names one the code lacks', async (t) => {
  const produced = codeReasons()
  t.ok(produced.size > 60, `reasons found in the code (${produced.size})`)
  for (const reason of ['proof_typ_invalid', 'host_invalid', 'nonce_stale', 'credentials_missing', 'issuer_mismatch']) {
    t.ok(produced.has(reason), `the scan finds ${reason}`)
  }

  const errors = section(readme, '## Errors')
  const readmeTable = tables(errors).find((table) => table.header[0] === 'reason')
  t.ok(readmeTable, 'the README has a reasons table under ## Errors')
  const inReadme = new Set((readmeTable?.rows ?? []).flatMap((row) => codeNames(row[0] ?? '')))
  t.same([...produced.keys()].filter((r) => !inReadme.has(r)).sort(), [], 'every reason the code produces is in the README table')

  const documented = documentedReasons()
  t.ok(documented.some((d) => d.path.startsWith('docs/')), 'reason tables in docs/ are read too')
  t.same(documented.filter((d) => !code.includes(`'${d.reason}'`)).map((d) => `${d.path}: ${d.reason}`), [], 'every documented reason exists in the code')
  const wrongStatus = documented.filter((d) => {
    const statuses = produced.get(d.reason)
    return d.status !== undefined && statuses !== undefined && !statuses.has(undefined) && !statuses.has(d.status)
  }).map((d) => `${d.path}: ${d.reason} says ${d.status}, code ${[...(produced.get(d.reason) ?? [])].join('/')}`)
  t.same(wrongStatus, [], 'every documented status is the one the code answers')
})

t.test('every plugin option is in the README options table, and every row names an option', async (t) => {
  const { options, nested } = pluginOptions()
  t.ok(options.size > 15)
  const documented = section(readme, '## Options')
  t.same([...options].filter((name) => !new RegExp(`\`${name}[.:\` ]`).test(documented)), [], 'every option is documented')
  const table = tables(documented).find((tb) => tb.header[0] === 'option')
  t.ok(table, 'the options table is found')
  const unknown: string[] = []
  for (const row of table?.rows ?? []) {
    for (const m of (row[0] ?? '').matchAll(/`(\w+)(?:\.(\w+))?`/g)) {
      const [name, sub] = [m[1] as string, m[2]]
      if (!options.has(name)) unknown.push(name)
      else if (sub !== undefined && nested.has(name) && !(nested.get(name) as Set<string>).has(sub)) unknown.push(`${name}.${sub}`)
    }
  }
  t.same(unknown, [], 'every row names an option (and a member of its options object) that exists')
})

t.test('the options of secret, decryption, mtls, tokenSources, fetch and the policies: each member named in its README row', async (t) => {
  const { options, nested } = pluginOptions()
  const table = tables(section(readme, '## Options')).find((tb) => tb.header[0] === 'option')
  const rowOf = (name: string): string => (table?.rows ?? []).filter((row) => new RegExp(`\`${name}[.\`]`).test(row[0] ?? '')).map((row) => row.join(' | ')).join('\n')
  for (const name of ['secret', 'decryption', 'mtls', 'tokenSources', 'fetch', 'profile', 'maxTokenAge', 'requiredClaims', 'stepUp', 'organization']) {
    t.ok(options.has(name), `${name} is a plugin option`)
    const row = rowOf(name)
    t.not(row, '', `${name} has a row`)
    const missing = [...(nested.get(name) ?? [])].filter((member) => !new RegExp(`\\b${member}\\b`).test(row))
    t.same(missing, [], `every member of ${name} is named in its row`)
  }
})

t.test('every requireAuth option is in the README table under app.requireAuth', async (t) => {
  const route = members('RequireAuthOptions')
  t.ok(route.has('acr') && route.has('tokenSources'), 'the route options are read from lib/types.ts')
  const table = tables(section(readme, '### `app.requireAuth(spec?)`')).find((tb) => tb.header[0] === 'field')
  const documented = new Set((table?.rows ?? []).flatMap((row) => [...(row[0] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1] as string)))
  t.same([...route.keys()].filter((name) => !documented.has(name)), [], 'every route option has a row')
  t.same([...documented].filter((name) => !route.has(name)), [], 'every row names a route option')
})

t.test('examples: every directory under examples/ is listed in the README, and every one named in the docs exists', async (t) => {
  const listed = [...section(readme, '## Examples').matchAll(/`examples\/([\w-]+)`/g)].map((m) => m[1] as string)
  const present = readdirSync(new URL('examples/', root), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)
  t.same(present.filter((name) => !listed.includes(name)).sort(), [], 'every example is listed')
  for (const file of files) {
    for (const m of file.text.matchAll(/`examples\/([\w-]+)(?:\/|\.ts)?[^`]*`/g)) {
      const name = m[1] as string
      t.ok(existsSync(new URL(`examples/${name}/index.ts`, root)) || existsSync(new URL(`examples/${name}.ts`, root)), `${file.path} names examples/${name}, which exists`)
    }
  }
})

t.test('the README stays short: at most 25 KB', async (t) => {
  const bytes = Buffer.byteLength(readme)
  t.ok(bytes <= 25 * 1024, `README.md is ${bytes} bytes; move prose to docs/<topic>.md and link it`)
})
