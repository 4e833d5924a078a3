/**
 * Redis key building. Caller keys can carry client-chosen input (a DPoP `jti`), so long keys are
 * replaced by their SHA-256: the Redis key length stays bounded whatever the client sends.
 */
import { createHash } from 'node:crypto'

/** Caller keys up to this many UTF-16 code units are used as is. */
export const MAX_RAW_KEY_LENGTH = 200

/**
 * Marks a hashed key. Raw keys that start with it are hashed too, so a raw key can never
 * collide with the hash form of another key.
 */
const HASHED_MARKER = '#'

export function redisKey (prefix: string, namespace: 'cache' | 'replay', key: string): string {
  const safe = key.length <= MAX_RAW_KEY_LENGTH && !key.startsWith(HASHED_MARKER)
    ? key
    : HASHED_MARKER + createHash('sha256').update(key).digest('base64url')
  return `${prefix}${namespace}:${safe}`
}
