/**
 * A Redis-backed store that is both the key/document `CacheAdapter` and the DPoP `ReplayStore`,
 * so several API instances share fetched documents and detect a proof replayed on any of them.
 */
import type { CacheAdapter, ReplayStore } from '../stores/types.js'
import { ttlSecondsToMs } from '../stores/ttl.js'
import { redisKey } from './keys.js'

/**
 * The Redis commands the store uses, typed structurally so this package never loads ioredis
 * itself. An ioredis `Redis` or `Cluster` (for example `fastify.redis` from @fastify/redis)
 * satisfies it.
 */
export interface RedisClientLike {
  get (key: string): Promise<string | null>
  set (key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<'OK'>
  set (key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>
  del (key: string): Promise<number>
}

export interface RedisStoreOptions {
  client: RedisClientLike
  /** Prepended to every key, to share a Redis with other data. Default `'fastify-auth0-api:'`. */
  prefix?: string
}

export interface RedisStore extends CacheAdapter, ReplayStore {}

export const DEFAULT_REDIS_PREFIX = 'fastify-auth0-api:'

/**
 * Every method rejects when Redis errors or cannot be reached; the caller decides what that
 * means (the plugin fails closed on replay checks and falls back to in-process key caching).
 */
export function redisStore (options: RedisStoreOptions): RedisStore {
  const { client, prefix = DEFAULT_REDIS_PREFIX } = options

  return {
    async checkAndRemember (key, ttlSeconds) {
      const ms = ttlSecondsToMs(ttlSeconds)
      // One atomic command: of concurrent first uses across instances exactly one gets 'OK'.
      const reply = await client.set(redisKey(prefix, 'replay', key), '1', 'PX', ms, 'NX')
      return reply === 'OK'
    },

    async get (key) {
      const redisKeyName = redisKey(prefix, 'cache', key)
      const text = await client.get(redisKeyName)
      if (text === null) return undefined
      try {
        return JSON.parse(text) as unknown
      } catch {
        // A corrupt entry is a miss, and removing it lets the next fetch store a good one.
        await client.del(redisKeyName)
        return undefined
      }
    },

    async set (key, value, ttlSeconds) {
      const ms = ttlSecondsToMs(ttlSeconds)
      const text = JSON.stringify(value) as string | undefined
      if (text === undefined) throw new TypeError('cache value is not JSON-serialisable')
      await client.set(redisKey(prefix, 'cache', key), text, 'PX', ms)
    },

    async delete (key) {
      await client.del(redisKey(prefix, 'cache', key))
    }
  }
}
