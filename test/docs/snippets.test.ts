/**
 * The code samples in the README and docs/*.md use options that exist: every key of an object
 * passed to `register(auth0Plugin, { … })` (and of its `dpop`, `cache`, `client`, `tokenCache`
 * objects) and to `requireAuth({ … })` is a member of the interface that types it in lib/. A sample
 * written against an old or imagined option fails here instead of at a reader's start-up.
 */
import t from 'tap'
import { docsFiles } from '../helpers/markdown.js'
import { members, pluginOptions } from '../helpers/option-types.js'

/** The text of the object literal starting at `open` (a `{`), strings and comments skipped. */
function objectAt (text: string, open: number): string | undefined {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    const ch = text[i]
    if (ch === '/' && text[i + 1] === '/') { i = text.indexOf('\n', i); if (i === -1) return undefined; continue }
    if (ch === '\'' || ch === '"' || ch === '`') {
      for (i++; i < text.length && text[i] !== ch; i++) if (text[i] === '\\') i++
      continue
    }
    if (ch === '{' || ch === '[' || ch === '(') depth++
    if (ch === '}' || ch === ']' || ch === ')') { depth--; if (depth === 0) return text.slice(open, i + 1) }
  }
  return undefined
}

/** Top-level keys of an object literal, with the literal of each key whose value is an object. */
function keysOf (literal: string): Map<string, string | undefined> {
  const keys = new Map<string, string | undefined>()
  let depth = 0
  let expectKey = false
  for (let i = 0; i < literal.length; i++) {
    const ch = literal[i] as string
    if (ch === '/' && literal[i + 1] === '/') { const end = literal.indexOf('\n', i); i = end === -1 ? literal.length : end; continue }
    if (/\s/.test(ch)) continue
    if (ch === '\'' || ch === '"' || ch === '`') {
      for (i++; i < literal.length && literal[i] !== ch; i++) if (literal[i] === '\\') i++
      expectKey = false
      continue
    }
    if (ch === '{' || ch === '[' || ch === '(') { depth++; expectKey = depth === 1; continue }
    if (ch === '}' || ch === ']' || ch === ')') { depth--; continue }
    if (depth === 1 && ch === ',') { expectKey = true; continue }
    if (!expectKey) continue
    expectKey = false
    const m = /^([A-Za-z_$][\w$]*)\s*(:|,|\})/.exec(literal.slice(i))
    if (m === null) continue
    const name = m[1] as string
    let value: string | undefined
    if (m[2] === ':') {
      const after = i + m[0].length
      const open = /^\s*\{/.exec(literal.slice(after))
      if (open !== null) value = objectAt(literal, after + open[0].length - 1)
    }
    keys.set(name, value)
    i += name.length - 1
  }
  return keys
}

function tsBlocks (text: string): string[] {
  return [...text.matchAll(/```(?:ts|typescript|js|javascript)\n([\s\S]*?)```/g)].map((m) => m[1] as string)
}

const { options, nested } = pluginOptions()
const routeOptions = new Set(members('RequireAuthOptions').keys())

t.test('the interfaces are found', async (t) => {
  t.ok(options.size > 15, 'Auth0PluginOptions')
  for (const name of ['dpop', 'cache', 'client', 'tokenCache', 'resourceMetadata', 'openapi']) t.ok((nested.get(name)?.size ?? 0) > 1, `${name} options`)
  t.ok(routeOptions.has('scopes') && routeOptions.has('match'), 'RequireAuthOptions')
  t.same([...keysOf("{ a: 1, b: { c: 'x, y: z' }, // d: 2\n e, f: [1, { g: 2 }], h: store, ...rest }").keys()], ['a', 'b', 'e', 'f', 'h'])
})

t.test('samples register the plugin with options that exist', async (t) => {
  const unknown: string[] = []
  let checked = 0
  for (const file of docsFiles()) {
    // Samples written for other libraries (the "before" side of a migration guide) are not ours.
    for (const block of tsBlocks(file.text).filter((b) => /from 'fastify-auth0-api'|auth0Plugin|fastifyAuth0Api|requireAuth\(/.test(b) && !/@auth0\/auth0-fastify-api|express-oauth2-jwt-bearer|fastify-auth0-verify/.test(b))) {
      for (const m of block.matchAll(/register\((?:auth0Plugin|fastifyAuth0Api),\s*\{/g)) {
        const literal = objectAt(block, (m.index ?? 0) + m[0].length - 1)
        if (literal === undefined) continue
        checked++
        for (const [key, value] of keysOf(literal)) {
          if (!options.has(key)) { unknown.push(`${file.path}: option ${key}`); continue }
          const inner = nested.get(key)
          if (inner !== undefined && value !== undefined) for (const sub of keysOf(value).keys()) if (!inner.has(sub)) unknown.push(`${file.path}: option ${key}.${sub}`)
        }
      }
      for (const m of block.matchAll(/requireAuth\(\{/g)) {
        const literal = objectAt(block, (m.index ?? 0) + m[0].length - 1)
        if (literal === undefined) continue
        checked++
        for (const key of keysOf(literal).keys()) if (!routeOptions.has(key)) unknown.push(`${file.path}: requireAuth option ${key}`)
      }
    }
  }
  t.ok(checked > 15, `option objects checked (${checked})`)
  t.same(unknown, [], 'every option in a sample exists')
})
