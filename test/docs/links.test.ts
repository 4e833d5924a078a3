/**
 * Every relative link in the README and docs/*.md resolves: the file (or directory) exists, and a
 * `#fragment` names a heading of the target Markdown file. Every guide is reachable from the README.
 */
import { existsSync, statSync } from 'node:fs'
import t from 'tap'
import { anchors, docsFiles, relativeLinks, root } from '../helpers/markdown.js'

const files = docsFiles()
const byPath = new Map(files.map((file) => [file.path, file]))

function resolve (from: string, target: string): string {
  const url = new URL(target, new URL(from, 'file:///repo/'))
  return decodeURIComponent(url.pathname.replace(/^\/repo\//, ''))
}

t.test('every relative link resolves, anchors included', async (t) => {
  let checked = 0
  const broken: string[] = []
  for (const file of files) {
    for (const link of relativeLinks(file.text)) {
      checked++
      const [path, fragment] = link.target.split('#') as [string, string | undefined]
      const target = path === '' ? file.path : resolve(file.path, path)
      if (target.startsWith('../') || !existsSync(new URL(target, root))) {
        broken.push(`${file.path}:${link.line} → ${link.target} (no such file)`)
        continue
      }
      if (fragment === undefined || fragment === '') continue
      if (!target.endsWith('.md') || statSync(new URL(target, root)).isDirectory()) continue
      const text = byPath.get(target)?.text
      if (text === undefined) continue // a Markdown file outside README/docs (bench/README.md): file checked only
      if (!anchors(text).has(decodeURIComponent(fragment).toLowerCase())) broken.push(`${file.path}:${link.line} → ${link.target} (no such heading)`)
    }
  }
  t.ok(checked > 20, `links checked (${checked})`)
  t.same(broken, [], 'no broken relative link')
})

t.test('every repository path named in backticks exists (test/, lib/, examples/, bench/ …)', async (t) => {
  const missing: string[] = []
  let checked = 0
  for (const file of files) {
    for (const m of file.text.matchAll(/`((?:test|lib|examples|bench|docs|\.ci)\/[\w./-]*\w)\/?`/g)) {
      const path = m[1] as string
      checked++
      if (!existsSync(new URL(path, root))) missing.push(`${file.path}: ${path}`)
    }
  }
  t.ok(checked > 5, `paths checked (${checked})`)
  t.same(missing, [], 'every path exists')
})

t.test('every guide in docs/ is linked from the README', async (t) => {
  const readme = files[0] as { text: string }
  const linked = new Set(relativeLinks(readme.text).map((link) => resolve('README.md', link.target.split('#')[0] as string)))
  const guides = files.slice(1).map((file) => file.path)
  t.ok(guides.length >= 10, `guides found (${guides.length})`)
  t.same(guides.filter((path) => !linked.has(path)), [], 'every docs/*.md is reachable from the README')
})

t.test('the anchor rules follow GitHub', async (t) => {
  const slugs = anchors('# Protected resource metadata (RFC 9728)\n## OpenAPI with @fastify/swagger\n## `app.requireAuth(spec?)`\n## Errors\n## Errors\n```\n# not a heading\n```\n')
  t.same([...slugs], ['protected-resource-metadata-rfc-9728', 'openapi-with-fastifyswagger', 'apprequireauthspec', 'errors', 'errors-1'])
  t.same(relativeLinks('[a](docs/a.md) `[b](nope.md)` [c](https://x.example/) [d](#e)\n```\n[f](g.md)\n```\n').map((l) => l.target), ['docs/a.md', '#e'])
})
