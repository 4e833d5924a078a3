/**
 * Converts a store TTL in seconds to whole milliseconds. The store contracts require a finite
 * TTL > 0; anything else is a caller bug, surfaced here instead of as a silent never-expiring
 * entry or an opaque Redis "invalid expire time" error.
 */
export function ttlSecondsToMs (ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`ttlSeconds must be a finite number > 0, got ${ttlSeconds}`)
  }
  // Round up so a sub-millisecond TTL still yields a positive expiry.
  return Math.ceil(ttlSeconds * 1000)
}
