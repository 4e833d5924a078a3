/**
 * A small YAML emitter for JSON documents (objects, arrays, strings, numbers, booleans, null), in
 * block style. Strings are always double-quoted with JSON escapes, which YAML's double-quoted
 * style reads identically, so no value changes type on the way (`"1.0"` stays a string).
 */

// Keys written plain: identifiers that no YAML 1.1/1.2 resolver reads as anything but a string.
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const RESERVED = /^(?:true|false|null|yes|no|on|off|y|n)$/i

function key (name: string): string {
  return PLAIN_KEY.test(name) && !RESERVED.test(name) ? name : JSON.stringify(name)
}

function scalar (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return 'null'
}

function isCollection (value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null
}

/** `value` as JSON would see it: `undefined` and functions dropped from objects, `null` in arrays. */
function entries (value: Record<string, unknown> | unknown[]): Array<[string | undefined, unknown]> {
  if (Array.isArray(value)) return value.map((item) => [undefined, item === undefined || typeof item === 'function' ? null : item])
  return Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function')
}

function block (value: Record<string, unknown> | unknown[], indent: string): string {
  const lines: string[] = []
  for (const [name, item] of entries(value)) {
    const lead = name === undefined ? `${indent}-` : `${indent}${key(name)}:`
    const nested = isCollection(item) ? entries(item) : undefined
    if (nested === undefined) lines.push(`${lead} ${scalar(item)}`)
    else if (nested.length === 0) lines.push(`${lead} ${Array.isArray(item) ? '[]' : '{}'}`)
    else if (name !== undefined) lines.push(lead, block(item as Record<string, unknown> | unknown[], `${indent}  `))
    // A collection in a sequence starts on the dash's line: `- key: value`.
    else lines.push(`${indent}- ${block(item as Record<string, unknown> | unknown[], `${indent}  `).slice(indent.length + 2)}`)
  }
  return lines.join('\n')
}

export function toYaml (document: unknown): string {
  if (!isCollection(document)) return `${scalar(document)}\n`
  const body = entries(document)
  return body.length === 0 ? `${Array.isArray(document) ? '[]' : '{}'}\n` : `${block(document, '')}\n`
}
