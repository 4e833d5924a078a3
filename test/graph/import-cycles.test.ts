/**
 * lib/ is a one-way stack: no module imports, directly or through others, a module that imports
 * it back. Type-only imports count: a type circle ties the modules together just as much for the
 * reader, and `import type` today is a value import after the next refactor. The walk reads every
 * static `import … from`, `export … from`, side-effect `import '…'` and `import('…')` between files
 * of lib/.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const lib = fileURLToPath(new URL('../../lib/', import.meta.url))

function tsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => entry.isDirectory()
    ? tsFiles(join(dir, entry.name))
    : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [join(dir, entry.name)] : [])
}

/** Relative specifiers a module imports or re-exports, comments stripped first. */
function specifiers (source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
  const found: string[] = []
  for (const m of code.matchAll(/(?:^|[;\n])\s*(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"](\.[^'"]+)['"]/g)) found.push(m[1] as string)
  for (const m of code.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) found.push(m[1] as string)
  return found
}

/** module → the modules it imports (paths relative to lib/, `.ts`). */
function importGraph (files: string[] = tsFiles(lib)): Map<string, string[]> {
  const known = new Set(files.map((file) => relative(lib, file).split('\\').join('/')))
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const from = relative(lib, file).split('\\').join('/')
    const targets = specifiers(readFileSync(file, 'utf8')).map((spec) => {
      const path = relative(lib, join(dirname(file), spec)).split('\\').join('/').replace(/\.js$/, '.ts')
      return known.has(path) ? path : known.has(`${path}.ts`) ? `${path}.ts` : known.has(`${path}/index.ts`) ? `${path}/index.ts` : path
    })
    graph.set(from, [...new Set(targets)])
  }
  return graph
}

/** Every cycle's strongly connected component (Tarjan), each as a sorted list; self-imports too. */
function cycles (graph: Map<string, string[]>): string[][] {
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (node: string): void => {
    indices.set(node, index); low.set(node, index); index++
    stack.push(node); onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue
      if (!indices.has(next)) { visit(next); low.set(node, Math.min(low.get(node) as number, low.get(next) as number)) } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) as number, indices.get(next) as number))
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = []
      let member: string
      do { member = stack.pop() as string; onStack.delete(member); component.push(member) } while (member !== node)
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort())
    }
  }
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node)
  return found
}

/** One path around a cycle, for the message: a → b → … → a. */
function pathAround (graph: Map<string, string[]>, component: string[]): string {
  const members = new Set(component)
  const start = component[0] as string
  const seen = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift() as string
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue
      if (next === start) {
        const path = [start]
        for (let at: string | undefined = node; at !== undefined && at !== start; at = seen.get(at)) path.splice(1, 0, at)
        return [...path, start].join(' → ')
      }
      if (!seen.has(next)) { seen.set(next, node); queue.push(next) }
    }
  }
  return component.join(', ')
}

t.test('the walk reads every import form', async (t) => {
  t.same(specifiers([
    "import { a } from './a.js'",
    "import type { B } from '../b.js'",
    "import c, { type D } from './c.js'",
    "export { e } from './e.js'",
    "export type { F } from './f.js'",
    "export * from './g.js'",
    "import './h.js'",
    "const i = await import('./i.js')",
    "import { x } from 'node:fs'",
    "// import { no } from './comment.js'",
    "/* import { no } from './block.js' */",
    "import {\n  multi,\n  line\n} from './j.js'"
  ].join('\n')), ['./a.js', '../b.js', './c.js', './e.js', './f.js', './g.js', './h.js', './j.js', './i.js'])
  const graph = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['d.ts']], ['e.ts', ['a.ts']]])
  t.same(cycles(graph), [['a.ts', 'b.ts', 'c.ts'], ['d.ts']])
  t.equal(pathAround(graph, ['a.ts', 'b.ts', 'c.ts']), 'a.ts → b.ts → c.ts → a.ts')
})

t.test('lib/ has no import cycle, type-only imports included', async (t) => {
  const graph = importGraph()
  t.ok(graph.size > 40, `modules read (${graph.size})`)
  t.ok([...graph.values()].some((targets) => targets.length > 0), 'imports found')
  // To break one: a type both sides need goes down a layer, into lib/types.ts (public types, which may
  // use AccessTokenClaims) or a leaf module that imports nothing above it (docs/architecture.md).
  t.same(cycles(graph).map((component) => pathAround(graph, component)), [], 'no cycle: move the shared type into lib/types.ts or a leaf module (docs/architecture.md)')
})
