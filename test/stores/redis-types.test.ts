/**
 * Type-level checks, enforced by `tsc --noEmit -p .` (the test runner does not type-check):
 * an ioredis client must satisfy `RedisClientLike` without casts, and clients that lack or
 * mistype a method must not.
 */
import t from 'tap'
import type { Cluster, Redis } from 'ioredis'
import { redisStore } from '../../lib/redis/index.js'
import type { RedisClientLike, RedisStore } from '../../lib/redis/index.js'
import type { CacheAdapter, ReplayStore } from '../../lib/stores/types.js'

type Assert<T extends true> = T
type Extends<A, B> = [A] extends [B] ? true : false

export type RedisFits = Assert<Extends<Redis, RedisClientLike>>
export type Resp3RedisFits = Assert<Extends<Redis<'resp3'>, RedisClientLike>>
export type ClusterFits = Assert<Extends<Cluster, RedisClientLike>>
export type StoreIsBoth = Assert<Extends<RedisStore, CacheAdapter & ReplayStore>>

// @ts-expect-error a client without `del` is refused
export type NoDel = Assert<Extends<Omit<RedisClientLike, 'del'>, RedisClientLike>>

// @ts-expect-error a `get` that resolves to something other than string | null is refused
export type WrongGet = Assert<Extends<Omit<RedisClientLike, 'get'> & { get (key: string): Promise<number> }, RedisClientLike>>

// `fastify.redis` from @fastify/redis is an ioredis `Redis`: it is accepted as is.
export function fromFastifyRedis (client: Redis): CacheAdapter & ReplayStore {
  return redisStore({ client })
}

t.pass('type-level assertions hold when tsc --noEmit passes')
