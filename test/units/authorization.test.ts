/**
 * lib/http/authorization.ts and lib/http/header-count.ts on their own: how an Authorization
 * header becomes credentials, or the precise refusal (class, reason, scheme) for each way it can
 * be wrong. test/core/authorization-header.test.ts proves the replies over HTTP.
 */
import t from 'tap'
import { FOREIGN_SCHEME, readCredentials } from '../../lib/http/authorization.js'
import { headerCount } from '../../lib/http/header-count.js'
import { InvalidRequestError, InvalidTokenError } from '../../lib/errors.js'
import { refusal } from '../helpers/refusal.js'

const MAX = 16

const read = (value: string | string[] | undefined, count = value === undefined ? 0 : 1): ReturnType<typeof readCredentials> => readCredentials(value, count, MAX)

t.test('no credentials: no header, an empty or a blank one', async (t) => {
  t.equal(read(undefined), undefined)
  t.equal(read(''), undefined)
  t.equal(read('   \t '), undefined)
  t.equal(read(['']), undefined, 'a one-element list is the header itself')
})

t.test('the usual spellings', async (t) => {
  t.strictSame(read('Bearer abc'), { scheme: 'bearer', token: 'abc' })
  t.strictSame(read('DPoP abc'), { scheme: 'dpop', token: 'abc' })
  t.strictSame(read(['Bearer abc']), { scheme: 'bearer', token: 'abc' })
  t.strictSame(read('Bearer A-Za-z0-9._~+/=='), { scheme: 'bearer', token: 'A-Za-z0-9._~+/==' }, 'every b64token character')
  t.strictSame(read('Bearer ' + 'a'.repeat(MAX)), { scheme: 'bearer', token: 'a'.repeat(MAX) }, 'exactly the cap')
  t.strictSame(read('DPoP ' + 'a'.repeat(MAX)), { scheme: 'dpop', token: 'a'.repeat(MAX) })
})

t.test('the scheme is case-insensitive and whitespace around the token is not part of it', async (t) => {
  t.strictSame(read('bearer abc'), { scheme: 'bearer', token: 'abc' })
  t.strictSame(read('BEARER abc'), { scheme: 'bearer', token: 'abc' })
  t.strictSame(read('dpop abc'), { scheme: 'dpop', token: 'abc' })
  t.strictSame(read('DPOP abc'), { scheme: 'dpop', token: 'abc' })
  t.strictSame(read('Bearer    abc  '), { scheme: 'bearer', token: 'abc' })
  t.strictSame(read('  DPoP abc'), { scheme: 'dpop', token: 'abc' })
  t.strictSame(read('\tBearer abc\t'), { scheme: 'bearer', token: 'abc' })
})

t.test('more than one Authorization header', async (t) => {
  for (const [value, count] of [['Bearer abc', 2], [['Bearer abc', 'Bearer abc'], 2], [['Bearer abc', 'Basic x'], 1], [undefined, 2]] as const) {
    const err = refusal(() => readCredentials(value as string | string[] | undefined, count, MAX))
    t.ok(err instanceof InvalidRequestError, JSON.stringify(value))
    t.equal(err.reason, 'authorization_header_repeated')
    t.equal(err.error_description, 'more than one Authorization header')
    t.equal(err.scheme, undefined)
  }
})

t.test('a header that is not <scheme> <token>', async (t) => {
  for (const value of ['Bearer', 'DPoP', 'Bearer\tabc', 'Bearer: abc', '"Bearer" abc', 'Bearer/1 abc']) {
    const err = refusal(() => read(value))
    t.ok(err instanceof InvalidRequestError, value)
    t.equal(err.reason, 'authorization_header_malformed')
    t.match(err.error_description, /^Authorization header must be .?<scheme> <token>.?$/)
    t.equal(err.scheme, undefined)
  }
})

t.test('a scheme other than Bearer or DPoP: FOREIGN_SCHEME, answered like no credentials (RFC 6750 §3)', async (t) => {
  for (const value of ['Basic dXNlcjpwYXNz', 'Token abc', 'Bearerx abc', 'DPoPx abc', 'abc.def.ghi', 'Basic', '  Negotiate abc==  ']) {
    t.equal(read(value), FOREIGN_SCHEME, value)
  }
})

t.test('a token over the cap is refused as too large, on the scheme used', async (t) => {
  for (const [value, scheme] of [['Bearer ' + 'a'.repeat(MAX + 1), 'bearer'], ['DPoP ' + 'a'.repeat(MAX + 1), 'dpop'], ['bearer ' + 'a'.repeat(MAX + 1), 'bearer']] as const) {
    const err = refusal(() => read(value))
    t.ok(err instanceof InvalidTokenError)
    t.equal(err.reason, 'token_too_large')
    t.equal(err.error_description, 'access token too large')
    t.equal(err.statusCode, 401)
    t.equal(err.scheme, scheme)
  }
  // The cap counts the token, not the header.
  t.strictSame(readCredentials('Bearer abcd', 1, 4), { scheme: 'bearer', token: 'abcd' })
  t.strictSame(readCredentials('bearer abcd', 1, 4), { scheme: 'bearer', token: 'abcd' })
  t.equal(refusal(() => readCredentials('bearer abcde', 1, 4)).reason, 'token_too_large')
})

t.test('two tokens, or characters outside b64token', async (t) => {
  const cases: Array<[string, 'bearer' | 'dpop', RegExp]> = [
    ['Bearer abc def', 'bearer', /exactly one token/],
    ['Bearer abc,def', 'bearer', /exactly one token/],
    ['DPoP abc, def', 'dpop', /exactly one token/],
    ['Bearer abc\tdef', 'bearer', /characters not allowed/],
    ['Bearer =abc', 'bearer', /characters not allowed/],
    ['Bearer ab=c', 'bearer', /characters not allowed/],
    ['Bearer abc"', 'bearer', /characters not allowed/],
    ['DPoP ab*c', 'dpop', /characters not allowed/],
    ['Bearer ==', 'bearer', /characters not allowed/],
    ['bearer ab!', 'bearer', /characters not allowed/]
  ]
  for (const [value, scheme, description] of cases) {
    const err = refusal(() => read(value))
    t.ok(err instanceof InvalidRequestError, value)
    t.equal(err.reason, 'authorization_header_malformed', value)
    t.match(err.error_description, description, value)
    t.equal(err.scheme, scheme, value)
  }
})

t.test('headerCount counts the raw header lines of one name, in any case', async (t) => {
  t.equal(headerCount([], 'authorization'), 0)
  t.equal(headerCount(['Host', 'x', 'Authorization', 'Bearer a'], 'authorization'), 1)
  t.equal(headerCount(['authorization', 'a', 'AUTHORIZATION', 'b', 'X-Authorization', 'c', 'dpop', 'authorization'], 'authorization'), 2, 'values are not names')
  t.equal(headerCount(['DPoP', 'a', 'Authorization', 'b', 'dpop', 'c'], 'dpop'), 2)
  t.equal(headerCount(['Authorizatio', 'a', 'Authorizations', 'b'], 'authorization'), 0, 'same prefix, other name')
  t.equal(headerCount(['Cache-Control', 'no-cache', 'Authorization', 'a'], 'authorization'), 1, 'same length, other name')
})
