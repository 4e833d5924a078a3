import { createHash } from 'node:crypto'
import t from 'tap'
import { MAX_RAW_KEY_LENGTH, redisKey } from '../../lib/redis/keys.js'

const sha = (s: string): string => createHash('sha256').update(s).digest('base64url')

t.test('short keys are kept as is under prefix and namespace', async (t) => {
  t.equal(redisKey('p:', 'replay', 'jkt.jti'), 'p:replay:jkt.jti')
  t.equal(redisKey('p:', 'cache', 'jwks:https://a/'), 'p:cache:jwks:https://a/')
  t.equal(redisKey('', 'cache', ''), 'cache:')
  const edge = 'x'.repeat(MAX_RAW_KEY_LENGTH)
  t.equal(redisKey('p:', 'cache', edge), `p:cache:${edge}`, 'exactly at the limit stays raw')
})

t.test('longer keys become a fixed-length SHA-256', async (t) => {
  const long = 'x'.repeat(MAX_RAW_KEY_LENGTH + 1)
  const key = redisKey('p:', 'replay', long)
  t.equal(key, `p:replay:#${sha(long)}`)
  t.equal(redisKey('p:', 'replay', 'y'.repeat(1_000_000)).length, 'p:replay:#'.length + 43)
  t.equal(redisKey('p:', 'replay', long), key, 'deterministic')
  t.not(redisKey('p:', 'replay', long + 'z'), key, 'distinct keys stay distinct')
})

t.test('a raw key cannot pose as the hash of another key', async (t) => {
  const long = 'x'.repeat(MAX_RAW_KEY_LENGTH + 1)
  const forged = `#${sha(long)}`
  t.not(redisKey('p:', 'replay', forged), redisKey('p:', 'replay', long))
  t.equal(redisKey('p:', 'replay', forged), `p:replay:#${sha(forged)}`, 'marker-led keys are hashed')
})
