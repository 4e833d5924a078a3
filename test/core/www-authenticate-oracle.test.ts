/**
 * The grammar oracle (test/helpers/www-authenticate.ts) is itself tested: it accepts the RFCs'
 * own examples, refuses each violation it is meant to catch, and agrees with an independent
 * parser, oauth4webapi's (reached through `protectedResourceRequest`, which throws a
 * `WWWAuthenticateChallengeError` carrying its parse), on a corpus of valid headers: the RFC
 * examples, every shape of challenge the plugin builds, and generated challenges.
 */
import { deepStrictEqual } from 'node:assert/strict'
import fc from 'fast-check'
import * as oauth from 'oauth4webapi'
import t from 'tap'
import { checkChallenges, checkRefusal, parseChallenges } from '../helpers/www-authenticate.js'
import { fcOptions } from '../helpers/property.js'

/** oauth4webapi's reading of a header: `[{ scheme, parameters, token68? }]`, or undefined. */
async function oauth4webapiParse (header: string): Promise<Array<{ scheme: string, parameters: Record<string, string>, token68?: string }> | undefined> {
  try {
    await oauth.protectedResourceRequest('token', 'GET', new URL('https://rs.example/'), undefined, undefined, {
      [oauth.customFetch]: async () => new Response(null, { status: 401, headers: { 'www-authenticate': header } })
    })
    return undefined
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) return err.cause as never
    throw err
  }
}

/** The oracle's reading in oauth4webapi's shape (scheme lower-cased). */
function oracleParse (header: string): Array<{ scheme: string, parameters: Record<string, string>, token68?: string }> {
  return parseChallenges(header).map((c) => ({ scheme: c.scheme.toLowerCase(), parameters: c.params, ...(c.token68 !== undefined ? { token68: c.token68 } : {}) }))
}

const VALID = [
  // RFC 6750 §3
  'Bearer realm="example"',
  'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
  // RFC 9449 §7.1 and §8
  'DPoP algs="ES256 PS256"',
  'DPoP error="invalid_dpop_proof", error_description="Invalid DPoP key binding", algs="ES256"',
  'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
  // RFC 9470 §3
  'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR"',
  'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="5"',
  'Bearer error="insufficient_user_authentication", acr_values="phr phrh", max_age=300',
  // RFC 9728 §5.1
  'Bearer resource_metadata="https://resource.example.com/.well-known/oauth-protected-resource"',
  // RFC 9110 §11.6.1 (other schemes, token68, a quoted title with quoted-pairs)
  'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
  'Basic realm="simple", Negotiate abc123==',
  'Negotiate YIIFyQYGKwYBBQUCoIIFvTCCBbmgMDAu',
  // What the plugin sends
  'Bearer realm="api", DPoP algs="ES256"',
  'Bearer realm="my \\"quoted\\" \\\\ realm", error="invalid_request", error_description="Authorization header must be <scheme> <token>", DPoP algs="ES256 EdDSA"',
  'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="read:messages write:messages", DPoP algs="ES256"',
  'DPoP error="invalid_dpop_proof", error_description="DPoP proof htm does not match the request method", algs="ES256", resource_metadata="http://127.0.0.1:3000/.well-known/oauth-protected-resource"'
]

t.test('the RFC examples and the plugin\'s shapes pass the oracle and read the same in oauth4webapi', async (t) => {
  for (const header of VALID) {
    t.doesNotThrow(() => checkChallenges(header), header)
    t.same(oracleParse(header), await oauth4webapiParse(header), `same reading: ${header}`)
  }
})

t.test('each violation the oracle exists for is refused, with its reason', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['Bearer realm="api", error="invalid_token", error_description="missing required \\"exp\\" claim"', /error_description.*NQSCHAR/],
    ['Bearer realm="api", error="invalid_token", error_description="a \\\\ b"', /error_description.*NQSCHAR/],
    ['Bearer realm="api", error="invalid_token", error_description="caf\u00e9"', /error_description.*NQSCHAR/],
    ['Bearer realm="api", error="invalid_token", error_description="tab\there"', /error_description.*NQSCHAR/],
    ['Bearer realm="api", error="invalid_token", error_description=""', /error_description.*NQSCHAR/],
    ['Bearer realm="api", error="bad code"', /not a registered error code/],
    ['Bearer realm="api", error="invalid_\\"token"', /NQSCHAR/],
    ['Bearer realm="api", error="insufficient_scope", scope="a  b"', /scope-tokens/],
    ['Bearer realm="api", error="insufficient_scope", scope=" a"', /scope-tokens/],
    ['Bearer realm="api", error="insufficient_scope", scope="say:\\"hi\\""', /scope-tokens/],
    ['Bearer realm="api", error="insufficient_scope", scope="caf\u00e9"', /scope-tokens/],
    ['DPoP algs="ES256,PS256"', /not an asymmetric JWS algorithm/],
    ['DPoP algs="HS256"', /not an asymmetric JWS algorithm/],
    ['DPoP algs="ES256  PS256"', /space-separated/],
    ['DPoP algs="ES256 ES256"', /listed twice/],
    ['Bearer error="insufficient_user_authentication", acr_values=" a"', /acr values/],
    ['Bearer error="insufficient_user_authentication", acr_values="caf\u00e9"', /acr values/],
    ['Bearer error="insufficient_user_authentication", acr_values="a  b"', /acr values/],
    ['Bearer error="insufficient_user_authentication", max_age="-1"', /non-negative integer/],
    ['Bearer error="insufficient_user_authentication", max_age="1.5"', /non-negative integer/],
    ['Bearer error="insufficient_user_authentication", max_age="05"', /non-negative integer/],
    ['Bearer resource_metadata="http://rs.example.com/.well-known/oauth-protected-resource"', /https/],
    ['Bearer resource_metadata="/.well-known/oauth-protected-resource"', /absolute URL/],
    ['Bearer resource_metadata="https://rs.example.com/x#f"', /fragment/],
    ['Bearer realm=api', /quoted-string/],
    ['Bearer realm="a", realm="b"', /repeated/],
    ['Bearer realm="a", REALM="b"', /repeated/],
    ['Bearer realm="a",, DPoP algs="ES256"', /empty list element/],
    ['Bearer realm="a", DPoP algs="ES256",', /empty list element/],
    ['Bearer realm="a", DPoP algs="ES256", Bearer realm="b"', /two Bearer challenges/],
    ['Bearer', /at least one auth-param/],
    ['Bearer abc==', /not a token68/],
    ['Bearer realm="api', /unterminated/],
    ['Bearer realm="a\u0001"', /not allowed in a quoted-string/],
    ['Bearer realm="api" error="invalid_token"', /"," expected/],
    ['Bearer\trealm="api"', /./],
    [' Bearer realm="api"', /whitespace/],
    ['', /empty/],
    ['Bearer realm="api", error_description="x"', /error_description without error/],
    ['Bearer realm="api", error="invalid_token", DPoP error="invalid_dpop_proof", algs="ES256"', /./]
  ]
  for (const [header, why] of bad) {
    let message = ''
    try {
      checkRefusal({ statusCode: 401, headers: { 'www-authenticate': header }, body: undefined })
    } catch (err) {
      message = (err as Error).message
    }
    t.match(message, why, `refused: ${JSON.stringify(header)}`)
    t.not(message, '', `refused at all: ${JSON.stringify(header)}`)
  }
})

t.test('a refusal: 401 needs a challenge; the challenge error and description are the body\'s', async (t) => {
  const body = { detail: { error: 'invalid_token', error_description: 'token expired' } }
  const header = 'Bearer realm="api", error="invalid_token", error_description="token expired"'
  t.same(checkRefusal({ statusCode: 401, headers: { 'www-authenticate': header }, body }).withError?.params.error, 'invalid_token')
  t.throws(() => checkRefusal({ statusCode: 401, headers: {}, body }), /401 without a challenge/)
  t.same(checkRefusal({ statusCode: 503, headers: {}, body }).challenges, [])
  t.throws(() => checkRefusal({ statusCode: 401, headers: { 'www-authenticate': header }, body: { detail: { error: 'invalid_token', error_description: 'other' } } }), /not the body/)
  t.throws(() => checkRefusal({ statusCode: 401, headers: { 'www-authenticate': header }, body: { detail: { error: 'invalid_request', error_description: 'token expired' } } }), /not the body/)
  t.throws(() => checkRefusal({ statusCode: 401, headers: { 'www-authenticate': ['a', 'b'] }, body }), /one header line/)
})

// Generated valid challenges: both parsers read them the same.
const tchar = fc.constantFrom(...'!#$%&\'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''))
const token = fc.string({ unit: tchar, minLength: 1, maxLength: 8 })
const qdchar = fc.constantFrom(...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)))
const quotedText = fc.string({ unit: qdchar, maxLength: 16 })
const param = fc.tuple(token, fc.oneof(token.map((v) => ({ raw: v, value: v })), quotedText.map((v) => ({ raw: `"${v.replace(/["\\]/g, '\\$&')}"`, value: v }))))
// Scheme names within token68's alphabet: oauth4webapi finds where a challenge ends by reading the
// next scheme as a token68, so a scheme such as `&` after parameters is beyond it (the oracle reads
// it; RFC 9110 allows it). Real schemes (Bearer, DPoP, Basic, Negotiate …) are in this alphabet.
const scheme = fc.string({ unit: fc.constantFrom(...'-._~+0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('')), minLength: 1, maxLength: 8 })
const challenge = fc.tuple(scheme, fc.uniqueArray(param, { minLength: 1, maxLength: 4, selector: ([name]) => name.toLowerCase() }))
  .map(([name, params]) => ({
    text: `${name} ${params.map(([name, v]) => `${name}=${v.raw}`).join(', ')}`,
    parsed: { scheme: name.toLowerCase(), parameters: Object.fromEntries(params.map(([name, v]) => [name.toLowerCase(), v.value])) }
  }))

t.test('property: generated challenge lists read the same in the oracle, in oauth4webapi and as built', async (t) => {
  await fc.assert(fc.asyncProperty(fc.uniqueArray(challenge, { minLength: 1, maxLength: 3, selector: (c) => c.parsed.scheme }), async (list) => {
    const header = list.map((c) => c.text).join(', ')
    const expected = list.map((c) => c.parsed)
    deepStrictEqual(oracleParse(header), expected)
    deepStrictEqual(await oauth4webapiParse(header), expected)
  }), fcOptions(300))
  t.pass('oracle and oauth4webapi agree on every generated list')
})
