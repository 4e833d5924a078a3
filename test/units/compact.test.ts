/**
 * lib/jwt/compact.ts on its own: the strict compact-JWS grammar (three canonical base64url
 * segments, JSON objects from strict UTF-8, a string `alg`, no `enc`) and the refusal each
 * violation gets. test/core/token-structure.test.ts proves the replies over HTTP.
 */
import t from 'tap'
import { decodeCompactJws } from '../../lib/jwt/compact.js'
import { InvalidTokenError } from '../../lib/errors.js'
import { b64url, segment } from '../helpers/jws.js'
import { refusal } from '../helpers/refusal.js'

const HEADER = segment({ alg: 'RS256', kid: 'k1' })
const PAYLOAD = segment({ sub: 'u', n: 1 })
const SIG = 'c2ln' // "sig": four characters, no unused bits

t.test('a well-formed token decodes to its header and payload', async (t) => {
  t.strictSame(decodeCompactJws(`${HEADER}.${PAYLOAD}.${SIG}`, 'bearer'), { header: { alg: 'RS256', kid: 'k1' }, payload: { sub: 'u', n: 1 } })
  t.strictSame(decodeCompactJws(`${segment({ alg: 'none' })}.${segment({})}.A_-0`, 'dpop'), { header: { alg: 'none' }, payload: {} }, 'every alphabet class; alg is judged later')
  t.strictSame(decodeCompactJws(`${segment({ alg: 'ES256', x: 'é€😀' })}.${PAYLOAD}.${SIG}`, 'bearer').header.x, 'é€😀', 'UTF-8 decoded')
})

t.test('not three segments: a JWE or an opaque token, on the scheme used', async (t) => {
  for (const [token, scheme] of [['opaque-token', 'bearer'], ['a.b', 'dpop'], ['a.b.c.d', 'bearer'], ['a.b.c.d.e', 'bearer'], ['', 'bearer']] as const) {
    const err = refusal(() => decodeCompactJws(token, scheme))
    t.ok(err instanceof InvalidTokenError, token)
    t.equal(err.reason, 'not_a_jws', token)
    t.match(err.error_description, /^not a JWT access token \(opaque or encrypted\)/)
    t.equal(err.scheme, scheme)
  }
})

t.test('segments outside the base64url alphabet, or empty', async (t) => {
  const bad = [`.${PAYLOAD}.${SIG}`, `${HEADER}..${SIG}`, `${HEADER}.${PAYLOAD}.`, `${HEADER}=.${PAYLOAD}.${SIG}`, `${HEADER}.${PAYLOAD}+.${SIG}`,
    `${HEADER}.${PAYLOAD}.${SIG}/`, ` ${HEADER}.${PAYLOAD}.${SIG}`, `${HEADER}.${PAYLOAD}.${SIG}\n`]
  for (const token of bad) {
    const err = refusal(() => decodeCompactJws(token, 'dpop'))
    t.equal(err.reason, 'malformed', JSON.stringify(token))
    t.equal(err.error_description, 'access token is not a well-formed compact JWS')
    t.equal(err.scheme, 'dpop')
  }
})

t.test('a signature has exactly one spelling', async (t) => {
  // Length 2 mod 4: the last character has 4 unused bits; 3 mod 4: 2 unused bits; 1 mod 4: never valid.
  const ok = ['AA', 'AQ', 'Aw', 'AAA', 'AAE', 'AA8', 'AAAAAA', '____', 'A_-0AQ']
  for (const s of ok) t.doesNotThrow(() => decodeCompactJws(`${HEADER}.${PAYLOAD}.${s}`, 'bearer'), s)
  const bad = ['A', 'AAAAA', 'AB', 'AE', 'AP', 'A_', 'AAB', 'AAD', 'AA_', 'A_-0AR']
  for (const s of bad) t.equal(refusal(() => decodeCompactJws(`${HEADER}.${PAYLOAD}.${s}`, 'bearer')).reason, 'malformed', s)
})

/** Bytes of a JSON text with one byte that is not UTF-8 (a lenient decoder would read U+FFFD). */
function notUtf8 (before: string, after: string): string {
  return b64url(Buffer.concat([Buffer.from(before), Buffer.from([0xff]), Buffer.from(after)]))
}

t.test('a header that is not a JSON object with a string alg', async (t) => {
  const headers = [
    b64url('not json'), segment(['RS256']), segment('RS256'), segment(null), segment(42), segment({}), segment({ alg: 256 }),
    segment({ alg: null }), notUtf8('{"alg":"RS256","x":"', '"}')
  ]
  for (const h of headers) {
    const err = refusal(() => decodeCompactJws(`${h}.${PAYLOAD}.${SIG}`, 'bearer'))
    t.equal(err.reason, 'malformed', h)
    t.match(err.error_description, /^access token header is not valid JSON with an .?alg.?$/, h)
    t.equal(err.scheme, 'bearer')
  }
})

t.test('a length of 1 mod 4 is refused even when the other characters decode to JSON', async (t) => {
  // Buffer.from(…, 'base64url') would drop the dangling character and read valid JSON.
  // Whole groups (JSON of 3n bytes), then one dangling character.
  const dangling = (value: unknown): string => {
    const s = segment(value)
    t.equal(s.length % 4, 0)
    return s + 'A'
  }
  const h = dangling({ alg: 'RS256' })
  t.strictSame(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')), { alg: 'RS256' }, 'Buffer alone would accept it')
  t.equal(refusal(() => decodeCompactJws(`${h}.${PAYLOAD}.${SIG}`, 'bearer')).reason, 'malformed')
  const p = dangling({ sub: 'uu' })
  t.strictSame(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')), { sub: 'uu' })
  t.equal(refusal(() => decodeCompactJws(`${HEADER}.${p}.${SIG}`, 'bearer')).reason, 'malformed')
})

t.test('a JWE header (enc, whatever its value) is named as an encrypted token', async (t) => {
  for (const header of [{ alg: 'RSA-OAEP-256', enc: 'A256GCM' }, { alg: 'dir', enc: null }]) {
    const err = refusal(() => decodeCompactJws(`${segment(header)}.${PAYLOAD}.${SIG}`, 'dpop'))
    t.equal(err.reason, 'not_a_jws')
    t.match(err.error_description, /^not a JWT access token/)
    t.equal(err.scheme, 'dpop')
  }
})

t.test('a payload that is not a JSON object', async (t) => {
  for (const p of [b64url('{"sub":'), segment([1]), segment('claims'), segment(null), segment(true), notUtf8('{"sub":"', '"}')]) {
    const err = refusal(() => decodeCompactJws(`${HEADER}.${p}.${SIG}`, 'dpop'))
    t.equal(err.reason, 'malformed', p)
    t.equal(err.error_description, 'access token payload is not a JSON object')
    t.equal(err.scheme, 'dpop')
  }
})
