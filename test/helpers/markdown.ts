/**
 * Just enough Markdown reading for the docs tests: the README and docs/*.md, their sections,
 * tables, headings (as GitHub anchors) and relative links. Code blocks and inline code are
 * skipped where they would be mistaken for prose (a `[x](y)` inside a code sample is not a link).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = new URL('../../', import.meta.url)

export interface MarkdownFile {
  /** Path relative to the repository root, with `/`. */
  path: string
  text: string
}

function markdownUnder (dir: URL): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => entry.isDirectory()
    ? markdownUnder(new URL(`${entry.name}/`, dir))
    : entry.name.endsWith('.md') ? [fileURLToPath(new URL(entry.name, dir))] : [])
}

/** README.md and every Markdown file under docs/, README first. */
export function docsFiles (): MarkdownFile[] {
  const base = fileURLToPath(root)
  const paths = [fileURLToPath(new URL('README.md', root)), ...markdownUnder(new URL('docs/', root)).sort()]
  return paths.map((path) => ({ path: relative(base, path).split('\\').join('/'), text: readFileSync(path, 'utf8') }))
}

/**
 * The text with fenced code blocks blanked to spaces (every offset kept), so headings, tables and
 * links in samples are ignored.
 */
export function withoutCodeBlocks (text: string): string {
  let fence = false
  return text.split('\n').map((line) => {
    const blank = ' '.repeat(line.length)
    if (/^\s*```/.test(line)) { fence = !fence; return blank }
    return fence ? blank : line
  }).join('\n')
}

/** From a heading line (`## Errors`) to the next heading of the same or a higher level. */
export function section (text: string, heading: string): string {
  const prose = withoutCodeBlocks(text)
  const start = prose.indexOf(`\n${heading}\n`)
  if (start === -1) throw new Error(`no "${heading}" heading`)
  const level = heading.indexOf(' ')
  const next = new RegExp(`\\n#{1,${level}} `, 'g')
  next.lastIndex = start + heading.length + 2
  const end = next.exec(prose)?.index
  return text.slice(start, end)
}

export interface Table {
  header: string[]
  rows: string[][]
}

function cells (line: string): string[] {
  // Split on | not inside backticks (a `a | b` type in a cell is one cell).
  const out: string[] = []
  let cell = ''
  let code = false
  for (const ch of line.trim().replace(/^\|/, '').replace(/\|$/, '')) {
    if (ch === '`') code = !code
    if (ch === '|' && !code) { out.push(cell.trim()); cell = '' } else cell += ch
  }
  out.push(cell.trim())
  return out
}

/** Every pipe table in the text (outside code blocks). */
export function tables (text: string): Table[] {
  const lines = withoutCodeBlocks(text).split('\n')
  const found: Table[] = []
  for (let i = 0; i + 1 < lines.length; i++) {
    const line = lines[i] as string
    if (!line.trimStart().startsWith('|') || !/^\s*\|?\s*:?-{3,}/.test(lines[i + 1] as string)) continue
    const table: Table = { header: cells(line).map((h) => h.replace(/`/g, '').toLowerCase()), rows: [] }
    let j = i + 2
    for (; j < lines.length && (lines[j] as string).trimStart().startsWith('|'); j++) table.rows.push(cells(lines[j] as string))
    found.push(table)
    i = j - 1
  }
  return found
}

/** Backticked identifiers in a cell, parenthesised notes left out (they name other things). */
export function codeNames (cell: string): string[] {
  return [...cell.replace(/\([^)]*\)/g, '').matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1] as string)
}

/** GitHub's anchor for each heading of the file, duplicates numbered as GitHub does. */
export function anchors (text: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const m of withoutCodeBlocks(text).matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const slug = (m[1] as string)
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    result.add(count === 0 ? slug : `${slug}-${count}`)
  }
  // Explicit HTML anchors (<a id="…">) count too.
  for (const m of text.matchAll(/<a (?:id|name)="([^"]+)"/g)) result.add(m[1] as string)
  return result
}

export interface Link {
  target: string
  line: number
}

/** Inline links and images whose target is relative (no scheme, not mailto:). */
export function relativeLinks (text: string): Link[] {
  const links: Link[] = []
  withoutCodeBlocks(text).split('\n').forEach((line, index) => {
    const prose = line.replace(/`[^`]*`/g, '')
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1] as string
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue
      links.push({ target, line: index + 1 })
    }
  })
  return links
}
