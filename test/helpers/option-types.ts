/**
 * The plugin's option names as lib/ declares them, read from the source (no compiler): the members
 * of `Auth0PluginOptions`, and for each member typed by another `…Options` interface, that
 * interface's members. The docs tests hold the README and the samples in docs/ to these names.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { root } from './markdown.js'

function libSources (dir = new URL('lib/', root)): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => entry.isDirectory()
    ? libSources(new URL(`${entry.name}/`, dir))
    : entry.name.endsWith('.ts') ? [readFileSync(new URL(entry.name, dir), 'utf8')] : [])
}

const code = libSources().join('\n')

/** Member name → its declared type text, of every `interface Name { … }` in lib/ (declarations merged). */
export function members (name: string): Map<string, string> {
  const found = new Map<string, string>()
  for (const m of code.matchAll(new RegExp(`interface ${name}(?:<[^>]*>)? (?:extends [^{]+)?\\{([\\s\\S]*?)\\n\\}`, 'g'))) {
    for (const member of (m[1] as string).matchAll(/^ {2}(?:readonly )?'?([\w-]+)'?\??: (.*)$/gm)) found.set(member[1] as string, member[2] as string)
  }
  return found
}

/** The plugin options, and for each one typed by an `…Options` interface, that interface's members. */
export function pluginOptions (): { options: Set<string>, nested: Map<string, Set<string>> } {
  const top = members('Auth0PluginOptions')
  const nested = new Map<string, Set<string>>()
  for (const [name, type] of top) {
    const interfaces = [...type.matchAll(/\b([A-Z]\w*Options)\b/g)].map((m) => m[1] as string)
    const inner = new Set(interfaces.flatMap((i) => [...members(i).keys()]))
    if (inner.size > 0) nested.set(name, inner)
  }
  return { options: new Set(top.keys()), nested }
}
