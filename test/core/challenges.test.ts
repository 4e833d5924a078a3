/**
 * SPEC §4 challenge shapes for every error class and mode, straight from the `Challenges`
 * builder and the exported error classes (the DPoP rows are produced by the DPoP pipeline; their
 * challenge shapes are part of the core error model and are pinned here).
 */
import t from 'tap'
import { Challenges } from '../../lib/http/challenge.js'
import {
  InsufficientScopeError,
  InternalAuthError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  IssuerUnavailableError,
  MissingCredentialsError,
  UseDpopNonceError
} from '../../lib/index.js'
import { safeDescription } from '../../lib/errors.js'
import { checkRefusal } from '../helpers/www-authenticate.js'
import { expectErrorGrammar, expectGrammar } from '../helpers/expect.js'

const challenges = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256', 'EdDSA'] })

t.test('bad DPoP proof: the error goes on the DPoP challenge, with algs', async (t) => {
  const err = new InvalidDpopProofError('dpop_htm_mismatch', 'DPoP proof htm mismatch')
  t.equal(err.statusCode, 401)
  t.equal(err.error, 'invalid_dpop_proof')
  t.equal(err.scheme, 'dpop')
  challenges.apply(err, 'allowed')
  t.strictSame(err.headers, { 'www-authenticate': 'Bearer realm="api", DPoP error="invalid_dpop_proof", error_description="DPoP proof htm mismatch", algs="ES256 EdDSA"' })
  expectErrorGrammar(t, err)
  challenges.apply(err, 'required')
  t.strictSame(err.headers, { 'www-authenticate': 'DPoP error="invalid_dpop_proof", error_description="DPoP proof htm mismatch", algs="ES256 EdDSA"' })
  expectErrorGrammar(t, err)
  const cause = new Error('inner')
  t.equal(new InvalidDpopProofError('x', 'y', { cause }).cause, cause)
})

t.test('nonce required: use_dpop_nonce on the DPoP challenge plus a DPoP-Nonce header', async (t) => {
  const err = new UseDpopNonceError('dpop_nonce_missing', 'nonce required', 'n-0S6_WzA2Mj')
  t.equal(err.statusCode, 401)
  t.equal(err.error, 'use_dpop_nonce')
  t.equal(err.nonce, 'n-0S6_WzA2Mj')
  challenges.apply(err, 'allowed')
  t.strictSame(err.headers, {
    'www-authenticate': 'Bearer realm="api", DPoP error="use_dpop_nonce", error_description="nonce required", algs="ES256 EdDSA"',
    'dpop-nonce': 'n-0S6_WzA2Mj'
  })
  expectErrorGrammar(t, err)
})

t.test('a DPoP-scheme error on a Bearer-only route is reported on the Bearer challenge', async (t) => {
  const err = challenges.apply(new InvalidTokenError('token_expired', 'token expired', { scheme: 'dpop' }), 'disabled')
  t.strictSame(err.headers, { 'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="token expired"' })
  expectErrorGrammar(t, err)
})

t.test('a Bearer-scheme error on a DPoP-only route is reported on the DPoP challenge', async (t) => {
  const err = challenges.apply(new InvalidTokenError('token_expired', 'token expired', { scheme: 'bearer' }), 'required')
  t.strictSame(err.headers, { 'www-authenticate': 'DPoP error="invalid_token", error_description="token expired", algs="ES256 EdDSA"' })
  expectErrorGrammar(t, err)
})

t.test('an error with no scheme goes on Bearer, or on DPoP for a DPoP-only route', async (t) => {
  const allowed = challenges.apply(new InvalidRequestError('authorization_header_malformed', 'bad'), 'allowed')
  t.strictSame(allowed.headers, { 'www-authenticate': 'Bearer realm="api", error="invalid_request", error_description="bad", DPoP algs="ES256 EdDSA"' })
  expectErrorGrammar(t, allowed)
  const required = challenges.apply(new InvalidRequestError('authorization_header_malformed', 'bad'), 'required')
  t.strictSame(required.headers, { 'www-authenticate': 'DPoP error="invalid_request", error_description="bad", algs="ES256 EdDSA"' })
  expectErrorGrammar(t, required)
})

t.test('403 on the DPoP challenge carries scope too', async (t) => {
  const err = challenges.apply(new InsufficientScopeError(['read:messages', 'admin'], 'insufficient scope', 'dpop'), 'allowed')
  t.strictSame(err.headers, { 'www-authenticate': 'Bearer realm="api", DPoP error="insufficient_scope", error_description="insufficient scope", scope="read:messages admin", algs="ES256 EdDSA"' })
  expectErrorGrammar(t, err)
})

t.test('missing credentials: bare challenges per mode', async (t) => {
  t.strictSame(challenges.apply(new MissingCredentialsError(), 'allowed').headers, { 'www-authenticate': 'Bearer realm="api", DPoP algs="ES256 EdDSA"' })
  t.strictSame(challenges.apply(new MissingCredentialsError(), 'disabled').headers, { 'www-authenticate': 'Bearer realm="api"' })
  t.strictSame(challenges.apply(new MissingCredentialsError(), 'required').headers, { 'www-authenticate': 'DPoP algs="ES256 EdDSA"' })
})

t.test('503 and 500 carry no challenge', async (t) => {
  t.strictSame(challenges.apply(new IssuerUnavailableError('issuer_unavailable', 'down', 12), 'allowed').headers, { 'retry-after': '12' })
  t.strictSame(challenges.apply(new InternalAuthError('unexpected'), 'allowed').headers, {})
  t.equal(new InternalAuthError('unexpected').error_description, 'internal error')
})

t.test('resource_metadata is added to 401 challenges only, when configured', async (t) => {
  const withMetadata = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256'], resourceMetadata: 'https://api.example.com/.well-known/oauth-protected-resource' })
  t.strictSame(withMetadata.apply(new MissingCredentialsError(), 'allowed').headers, {
    'www-authenticate': 'Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource", DPoP algs="ES256", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'
  })
  t.strictSame(withMetadata.apply(new InsufficientScopeError(['a'], 'insufficient scope', 'bearer'), 'disabled').headers, {
    'www-authenticate': 'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="a"'
  })
})

t.test('challenge lines are memoised, with a bound', async (t) => {
  const memo = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256'] })
  for (let i = 0; i < 1100; i++) {
    const err = memo.apply(new InsufficientScopeError([`scope-${i}`], 'insufficient scope', 'bearer'), 'disabled')
    t.equal(err.headers['www-authenticate'], `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="scope-${i}"`)
    expectGrammar(t, err)
  }
  // Past the bound, lines are still built correctly (just not remembered).
  t.equal(memo.line('disabled', { scheme: 'bearer', code: 'invalid_token', description: 'late' }), 'Bearer realm="api", error="invalid_token", error_description="late"')
  t.equal(memo.line('disabled', { scheme: 'bearer', code: 'invalid_token', description: 'late' }), 'Bearer realm="api", error="invalid_token", error_description="late"')
})

// Issue 12, regression: a description with `"` (as jose's `missing required "exp" claim`) was sent
// as `\"` inside the quoted-string, which RFC 6750 §3 forbids (no `"`, no `\`). Descriptions are
// now made safe where every AuthError is made, so no description, ours or foreign, can break it.
t.test('any description is made RFC 6750 §3-safe where the error is made; body and challenge carry the same text', async (t) => {
  const cases: Array<[string, string]> = [
    ['missing required "exp" claim', "missing required 'exp' claim"],
    ['unexpected "aud" claim value', "unexpected 'aud' claim value"],
    ['a \\ backslash', 'a / backslash'],
    ['line\r\nbreak\ttab\u0000nul\u007fdel', 'line  break tab nul del'],
    ['café ☕ 𝄞', 'caf? ? ?'],
    ['', 'error'],
    ['already safe: <scheme> (iat) [x] {y} ~!#$%&\'*+,-./:;=?@^_`|', 'already safe: <scheme> (iat) [x] {y} ~!#$%&\'*+,-./:;=?@^_`|']
  ]
  for (const [raw, safe] of cases) {
    const err = challenges.apply(new InvalidTokenError('malformed', raw), 'allowed')
    t.equal(err.error_description, safe, JSON.stringify(raw))
    t.equal(err.message, safe, 'the Error message is the same text')
    t.strictSame(err.toJSON(), { detail: { error: 'invalid_token', error_description: safe } })
    t.equal(err.headers['www-authenticate'], `Bearer realm="api", error="invalid_token", error_description="${safe}", DPoP algs="ES256 EdDSA"`)
    expectGrammar(t, err)
    t.doesNotThrow(() => checkRefusal({ statusCode: 401, headers: err.headers, body: err.toJSON() }), 'the oracle accepts it')
  }
  t.equal(safeDescription('token expired'), 'token expired', 'our own descriptions come out unchanged')
})
