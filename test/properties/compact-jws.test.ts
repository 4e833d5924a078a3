/**
 * Property: the compact JWS structure checks (lib/jwt/compact.ts, `decodeCompactJws`) agree with
 * jose's own decoding on arbitrary segment strings. "jose reads it" is what jose's verification
 * needs before any key is involved, from jose's exported functions: `decodeProtectedHeader` (a
 * JSON object in strict UTF-8), `decodeJwt` (three segments, a JSON object payload), an `alg`
 * string (compactVerify's first header check) and `base64url.decode` of the signature.
 *
 * - Whatever we accept, jose reads, to the same header and payload, and it is not on the stricter side.
 * - Whatever jose reads and we refuse is on the documented stricter side, decided here by a
 *   predicate of its own (`stricter`): one spelling per token (unpadded base64url of the URL
 *   alphabet only, a canonical last character of the signature, RFC 7515 §2 and Appendix C), a
 *   signature that is not empty, no `enc` (an encrypted token, RFC 7516 §9, is not a JWS), and no
 *   byte-order mark before the JSON (RFC 8259 §8.1: senders must not add one; jose's TextDecoder
 *   drops it, JSON.parse does not).
 *
 * `crit` and `b64` are not structure: jose judges them while verifying, and the plugin maps its
 * refusal (header_unsupported, malformed) like any other.
 */
import fc from 'fast-check'
import { base64url, decodeJwt, decodeProtectedHeader } from 'jose'
import t from 'tap'
import { decodeCompactJws } from '../../lib/jwt/compact.js'
import { AuthError } from '../../lib/errors.js'
import { fcOptions } from '../helpers/property.js'

type Read = { header: unknown, payload: unknown } | undefined

function ours (token: string): Read {
  try {
    return decodeCompactJws(token, 'bearer')
  } catch (err) {
    if (!(err instanceof AuthError) || err.statusCode !== 401) throw err
    return undefined
  }
}

function jose (token: string): Read {
  try {
    const header = decodeProtectedHeader(token)
    const payload = decodeJwt(token)
    if (typeof header.alg !== 'string') return undefined
    base64url.decode(token.split('.')[2] as string)
    return { header, payload }
  } catch {
    return undefined
  }
}

const URL_ALPHABET = /^[A-Za-z0-9_-]+$/
const BOM = '\ufeff'

/** Why we may refuse a token jose reads (the documented stricter side), or undefined. */
function stricter (token: string): string | undefined {
  const [h = '', p = '', s = ''] = token.split('.')
  if (![h, p, s].every((segment) => URL_ALPHABET.test(segment))) return 'a character outside unpadded base64url, or an empty segment'
  const rest = s.length % 4
  // The unused low bits of the last character: 4 after 2 characters of a group, 2 after 3.
  const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(s.charAt(s.length - 1))
  if (rest === 1 || (rest === 2 && (last & 0x0f) !== 0) || (rest === 3 && (last & 0x03) !== 0)) return 'a non-canonical signature'
  const text = (segment: string): string => Buffer.from(segment, 'base64url').toString('utf8')
  if (text(h).startsWith(BOM) || text(p).startsWith(BOM)) return 'a byte-order mark before the JSON'
  const header = jose(token)?.header as Record<string, unknown> | undefined
  if (header !== undefined && 'enc' in header) return 'an enc header: an encrypted token'
  return undefined
}

const b64 = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url')
const jsonValue = fc.jsonValue({ maxDepth: 2 })
const header = fc.oneof(
  { weight: 5, arbitrary: fc.record({ alg: fc.constantFrom('RS256', 'ES256', 'none', ''), typ: fc.constantFrom('JWT', 'at+jwt') }, { requiredKeys: ['alg'] }) },
  { weight: 1, arbitrary: fc.record({ alg: fc.constantFrom('RS256'), enc: fc.constantFrom('A256GCM') }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), jsonValue, { maxKeys: 3 }) },
  { weight: 1, arbitrary: jsonValue }
)
const payload = fc.oneof({ weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), jsonValue, { maxKeys: 3 }) }, { weight: 1, arbitrary: jsonValue })
/** A segment: mostly base64url of JSON, sometimes of a BOM and JSON, of raw bytes, or noise. */
const jsonSegment = (value: fc.Arbitrary<unknown>): fc.Arbitrary<string> => fc.oneof(
  { weight: 6, arbitrary: value.map((v) => b64(JSON.stringify(v) ?? 'null')) },
  { weight: 1, arbitrary: value.map((v) => b64(BOM + (JSON.stringify(v) ?? 'null'))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map(b64) },
  { weight: 1, arbitrary: value.map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64')) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'Aa0_-=+/ .\t%'.split('')), maxLength: 8 }) }
)
const signature = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 40 }).map(b64) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64')) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'AQgw_-=+/ .'.split('')), maxLength: 7 }) }
)
const token = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(jsonSegment(header), jsonSegment(payload), signature).map((parts) => parts.join('.')) },
  { weight: 1, arbitrary: fc.array(fc.oneof(jsonSegment(header), signature), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')) }
)

t.test('decodeCompactJws accepts exactly what jose reads, less the documented stricter side, and reads it the same', async (t) => {
  let accepted = 0
  fc.assert(fc.property(token, (value) => {
    const mine = ours(value)
    const theirs = jose(value)
    if (mine !== undefined) {
      accepted++
      if (theirs === undefined) throw new Error(`we accept what jose refuses: ${value}`)
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) throw new Error(`we read ${JSON.stringify(mine)}, jose ${JSON.stringify(theirs)}: ${value}`)
      const why = stricter(value)
      if (why !== undefined) throw new Error(`we accept what we document as refused (${why}): ${value}`)
    } else if (theirs !== undefined && stricter(value) === undefined) {
      throw new Error(`we refuse what jose reads, outside the documented stricter side: ${value}`)
    }
  }), fcOptions(1000))
  t.ok(accepted > 0, `some tokens were accepted (${accepted})`)
})

t.test('the stricter side, case by case: jose reads each, we refuse each', async (t) => {
  const h = b64(JSON.stringify({ alg: 'RS256' }))
  const p = b64(JSON.stringify({ sub: 'a' }))
  const cases: Array<[string, string]> = [
    [`${h}.${p}.AQ==`, 'padding'],
    [`${h}.${p}.AR`, 'non-canonical last character'],
    [`${h}.${p}.`, 'empty signature'],
    [`${b64(BOM + '{"alg":"RS256"}')}.${p}.AQ`, 'BOM before the header'],
    [`${b64(JSON.stringify({ alg: 'RS256', enc: 'A256GCM' }))}.${p}.AQ`, 'enc'],
    [`${Buffer.from('{"alg":"RS256","x":">?"}').toString('base64')}.${p}.AQ`, 'the + / alphabet']
  ]
  for (const [value, name] of cases) {
    if (jose(value) !== undefined) t.ok(stricter(value), `${name}: on the documented side`)
    t.equal(ours(value), undefined, `${name}: refused`)
  }
})
