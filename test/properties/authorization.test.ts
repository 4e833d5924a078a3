/**
 * Property: the Authorization header parser (lib/http/authorization.ts) never throws anything but
 * a refusal, and reads exactly the grammar of the RFCs, modelled here from the RFCs and not from
 * lib/:
 *
 * - RFC 9110 §5.5: a field value has no leading or trailing whitespace, which is SP / HTAB only
 *   (OWS); what a recipient strips is that, nothing else.
 * - RFC 9110 §11.4: `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`, the scheme a
 *   case-insensitive `token` (§5.6.2).
 * - RFC 6750 §2.1 / RFC 9449 §7.1: `"Bearer" 1*SP b64token`, `"DPoP" 1*SP b64token`,
 *   `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
 * - SPEC §4 / RFC 6750 §3.1: no field, or an empty one, is no credentials; another scheme is
 *   answered like no credentials; a malformed `Bearer`/`DPoP` is a 400; a token longer than
 *   `maxTokenLength` is a 401 `token_too_large`, decided before the token's characters are read.
 *
 * Field values are drawn from what an HTTP/1.1 field can carry (RFC 9110 §5.5: VCHAR, SP, HTAB,
 * obs-text %x80-FF, as Node hands them over decoded as latin1), biased towards the grammar's edges.
 */
import fc from 'fast-check'
import t from 'tap'
import { FOREIGN_SCHEME, readCredentials } from '../../lib/http/authorization.js'
import { AuthError } from '../../lib/errors.js'
import { fcOptions } from '../helpers/property.js'

const MAX = 24

type Outcome =
  | { kind: 'none' }
  | { kind: 'foreign' }
  | { kind: 'credentials', scheme: 'bearer' | 'dpop', token: string }
  | { kind: 'refused', status: number, reason: string }

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** The model: one field value → what the RFCs and SPEC §4 say it is. */
function model (value: string): Outcome {
  const field = value.replace(/^[ \t]+|[ \t]+$/g, '')
  if (field === '') return { kind: 'none' }
  const space = field.indexOf(' ')
  const scheme = space === -1 ? field : field.slice(0, space)
  const malformed: Outcome = { kind: 'refused', status: 400, reason: 'authorization_header_malformed' }
  if (!TCHAR.test(scheme)) return malformed
  const name = scheme.toLowerCase()
  if (name !== 'bearer' && name !== 'dpop') return { kind: 'foreign' }
  if (space === -1) return malformed
  // 1*SP, then the credentials.
  const token = field.slice(space).replace(/^ +/, '')
  if (token.length > MAX) return { kind: 'refused', status: 401, reason: 'token_too_large' }
  if (!B64TOKEN.test(token)) return malformed
  return { kind: 'credentials', scheme: name, token }
}

function actual (value: string): Outcome {
  try {
    const read = readCredentials(value, 1, MAX)
    if (read === undefined) return { kind: 'none' }
    if (read === FOREIGN_SCHEME) return { kind: 'foreign' }
    return { kind: 'credentials', scheme: read.scheme, token: read.token }
  } catch (err) {
    // Anything but a refusal escaping the parser is a failure of the property.
    if (!(err instanceof AuthError)) throw err
    return { kind: 'refused', status: err.statusCode, reason: err.reason }
  }
}

// Characters of a field value: VCHAR, SP, HTAB, obs-text.
const fieldChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'ABCabcxyz0123456789-._~+/='.split('')) },
  { weight: 3, arbitrary: fc.constantFrom(' ', '\t') },
  { weight: 2, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) }
)
const text = (maxLength: number): fc.Arbitrary<string> => fc.array(fieldChar, { maxLength }).map((cs) => cs.join(''))
const schemeName = fc.oneof(
  fc.constantFrom('Bearer', 'bearer', 'BEARER', 'DPoP', 'dpop', 'Dpop', 'Basic', 'Token', 'Bearer,', 'Bearer"', 'Negotiate'),
  text(8)
)
const b64token = fc.tuple(fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,30}$/), fc.constantFrom('', '=', '==')).map(([a, b]) => a + b)
const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t', '\u00a0', '\u0085')
/** Mostly near the grammar: `OWS scheme SEP token OWS`, pieces sometimes replaced by noise. */
const fieldValue = fc.oneof(
  fc.tuple(ows, schemeName, fc.constantFrom(' ', '  ', '\t', ' \t', '', '\u00a0'), fc.oneof(b64token, text(30)), ows).map((parts) => parts.join('')),
  text(40)
)

t.test('readCredentials agrees with the RFC model on every field value, and throws only refusals', async (t) => {
  fc.assert(fc.property(fieldValue, (value) => {
    const got = actual(value)
    const want = model(value)
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`${JSON.stringify(value)}: parser ${JSON.stringify(got)}, model ${JSON.stringify(want)}`)
    }
  }), fcOptions(2000))
  t.pass('property held')
})

t.test('regressions the property found: only SP and HTAB are whitespace around and inside credentials', async (t) => {
  // NBSP (%xA0) and NEL (%x85) are obs-text, not OWS: part of the value, so the token is not a b64token.
  for (const value of ['Bearer abc\u00a0', '\u00a0Bearer abc', 'Bearer\u00a0abc', 'Bearer abc\u0085', 'Bearer \u00a0abc', 'Bearer \tabc']) {
    t.strictSame(actual(value), model(value), JSON.stringify(value))
    t.notSame(actual(value).kind, 'credentials', `${JSON.stringify(value)} is not credentials`)
  }
  t.strictSame(actual('\tBearer abc\t'), { kind: 'credentials', scheme: 'bearer', token: 'abc' }, 'HTAB is OWS')
  t.strictSame(actual('Bearer   abc'), { kind: 'credentials', scheme: 'bearer', token: 'abc' }, '1*SP')
})
