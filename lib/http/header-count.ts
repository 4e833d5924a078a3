/** How many `name` (lower-case) header lines arrived; Node's `headers` object keeps only the first of some. */
export function headerCount (rawHeaders: readonly string[], name: string): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const field = rawHeaders[i] as string
    if (field.length === name.length && field.toLowerCase() === name) count++
  }
  return count
}
