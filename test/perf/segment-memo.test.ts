/**
 * The decoded-header memo (lib/jwt/segment-memo.ts): an entry only for the very same text, frozen
 * (requests share it), bounded in count and in text length.
 */
import t from 'tap'
import { SegmentMemo } from '../../lib/jwt/segment-memo.js'

t.test('remembers a value for its exact text, deep-frozen', async (t) => {
  const memo = new SegmentMemo<Record<string, unknown>>(4, 64)
  const value = { alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } }
  t.equal(memo.remember('eyJhbGciOiJFUzI1NiJ9', value), value)
  t.equal(memo.get('eyJhbGciOiJFUzI1NiJ9'), value)
  t.ok(Object.isFrozen(value) && Object.isFrozen(value.jwk), 'shared by every request: frozen, nested members too')
  t.equal(memo.get('eyJhbGciOiJFUzI1NiJ9 '), undefined, 'another text, even one character longer, is another entry')
  t.equal(memo.get('eyJhbGciOiJFUzI1NiJ8'), undefined)
})

t.test('bounded: a text over maxLength is not kept; a full memo is emptied', async (t) => {
  const memo = new SegmentMemo<{ n: number }>(2, 8)
  const long = { n: 0 }
  t.equal(memo.remember('123456789', long), long, 'the value is returned all the same')
  t.equal(memo.get('123456789'), undefined)
  t.notOk(Object.isFrozen(long), 'not kept, not frozen')
  const exact = { n: 8 }
  memo.remember('12345678', exact)
  t.equal(memo.get('12345678'), exact, 'a text of exactly maxLength is kept')
  memo.remember('z', { n: 9 })
  t.same(memo.get('z'), { n: 9 }, 'below max entries: nothing emptied')
  t.equal(memo.get('12345678'), exact)
  memo.remember('a', { n: 1 })
  memo.remember('b', { n: 2 })
  memo.remember('c', { n: 3 })
  t.equal(memo.get('a'), undefined, 'emptied when full')
  t.equal(memo.get('b'), undefined)
  t.same(memo.get('c'), { n: 3 })
})
