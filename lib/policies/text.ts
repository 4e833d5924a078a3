/**
 * What may go into an `error_description` (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E, so no `"`,
 * no `\`, no control or non-ASCII character). Policy descriptions quote configured values (scopes,
 * acr values, claim names) only when they pass this test; otherwise they say less.
 */
const DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

export function describable (value: string): boolean {
  return DESCRIPTION_CHARS.test(value)
}

/** `a, b and c`-free list for descriptions: `a, b, c`. */
export function list (values: readonly string[]): string {
  return values.join(', ')
}
