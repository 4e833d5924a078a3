/**
 * `fastify-auth0-api/redis`: a shared cache and DPoP replay store for several API instances.
 * Bring your own ioredis client (or any client with the same `get` / `set` / `del`).
 */
export { DEFAULT_REDIS_PREFIX, redisStore } from './store.js'
export type { RedisClientLike, RedisStore, RedisStoreOptions } from './store.js'
export { MAX_RAW_KEY_LENGTH } from './keys.js'
