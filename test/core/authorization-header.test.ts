/**
 * SPEC §3 step 1 and §4: the Authorization header. No credentials → 401 with a bare challenge;
 * anything malformed → 400 `invalid_request`; an oversized token → 401 before any decoding.
 */
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { UnsupportedSchemeError } from '../../lib/index.js'
import { harness } from '../helpers/app.js'
import { BARE, bearerChallenge, expectError, expectInvalidRequest, expectInvalidToken, expectErrorGrammar, expectGrammar } from '../helpers/expect.js'
import { rawRequest } from '../helpers/raw-http.js'

const NOT_A_JWT = 'not a JWT access token (opaque or encrypted); did the client request an audience?'

t.test('no Authorization header: 401 with the bare challenge, no error parameter', async (t) => {
  const h = await harness(t)
  const res = await h.app.inject({ url: '/private' })
  expectError(t, res, { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: BARE })
  t.notMatch(res.headers['www-authenticate'], /error=/, 'RFC 6750 §3.1: no error code without credentials')
  expectGrammar(t, res)
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 }, 'nothing fetched')
  // The public route is untouched.
  const pub = await h.app.inject({ url: '/public' })
  t.equal(pub.statusCode, 200)
})

t.test('an empty (or blank) Authorization header counts as no credentials', async (t) => {
  const h = await harness(t)
  for (const value of ['', '   ']) {
    const res = await h.app.inject({ url: '/private', headers: { authorization: value } })
    expectError(t, res, { status: 401, error: 'invalid_request', description: 'authorization header missing', challenge: BARE })
  }
})

t.test('malformed headers: 400 invalid_request, nothing fetched', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token()
  const cases: Array<[string, string, string]> = [
    ['scheme only', 'Bearer', 'Authorization header must be <scheme> <token>'],
    ['scheme and trailing space', 'Bearer ', 'Authorization header must be <scheme> <token>'],
    ['tab instead of space', `Bearer\t${token}`, 'Authorization header must be <scheme> <token>'],
    ['two tokens', `Bearer ${token} ${token}`, 'Authorization header must carry exactly one token'],
    ['comma-separated tokens', `Bearer ${token},${token}`, 'Authorization header must carry exactly one token'],
    ['comma after the token', `Bearer ${token},`, 'Authorization header must carry exactly one token'],
    ['two credentials in one line', `Bearer ${token}, Bearer ${token}`, 'Authorization header must carry exactly one token'],
    ['non-b64token character', `Bearer ${token.slice(0, 10)}!${token.slice(11)}`, 'access token contains characters not allowed in a bearer token'],
    ['quoted token', `Bearer "${token}"`, 'access token contains characters not allowed in a bearer token'],
    ['"=" inside the token', `Bearer abc=def`, 'access token contains characters not allowed in a bearer token'],
    ['DPoP without a token', 'DPoP', 'Authorization header must be <scheme> <token>'],
    ['a first word that is no scheme name', `Bearer: ${token}`, 'Authorization header must be <scheme> <token>'],
    ['a quoted scheme', `"Bearer" ${token}`, 'Authorization header must be <scheme> <token>']
  ]
  for (const [name, value, description] of cases) {
    await t.test(name, async (t) => {
      const res = await h.app.inject({ url: '/private', headers: { authorization: value } })
      expectInvalidRequest(t, res, description)
    })
  }
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 }, 'no malformed header reaches the network')
})

// Issue 12, regression: credentials of a scheme we do not support were a 400. RFC 6750 §3 treats
// them like no credentials (RFC 9110 §11.6.1: the challenge tells the client which scheme to use).
t.test('credentials of another scheme (Basic, Token, a bare JWT read as a scheme): 401 with the bare challenge', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token()
  const foreign = ['Basic dXNlcjpwYXNzd29yZA==', `Token ${token}`, token, `Bearer${token}`, 'Negotiate YIIFyQYGKwYBBQUCoIIFvTCCBbmgMDAu', 'Basic', `  Digest username="a", realm="b"  `]
  for (const value of foreign) {
    const res = await h.app.inject({ url: '/private', headers: { authorization: value } })
    expectError(t, res, { status: 401, error: 'invalid_request', description: 'unsupported authorization scheme (use Bearer or DPoP)', challenge: BARE })
  }
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 }, 'nothing fetched')
  // `fastify.auth0.verify()` throws the same refusal.
  const err = await h.app.auth0.verify({ method: 'GET', url: '/x', headers: { authorization: 'Basic eDp5' } }).catch((e: unknown) => e) as UnsupportedSchemeError
  t.ok(err instanceof UnsupportedSchemeError)
  t.equal(err.reason, 'authorization_scheme_unsupported')
  t.strictSame(err.headers, { 'www-authenticate': BARE })
  expectErrorGrammar(t, err)
})

t.test('another scheme on an optional route: anonymous, like no credentials', async (t) => {
  const h = await harness(t)
  for (const value of ['Basic dXNlcjpwYXNz', await h.issuer.token()]) {
    const res = await h.app.inject({ url: '/optional', headers: { authorization: value } })
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), { claims: null })
  }
  // A malformed Bearer header is still refused there.
  expectInvalidRequest(t, await h.app.inject({ url: '/optional', headers: { authorization: 'Bearer a b' } }), 'Authorization header must carry exactly one token')
})

t.test('the scheme is case-insensitive; extra spaces around the token are tolerated', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token()
  for (const value of [`bearer ${token}`, `BEARER ${token}`, `bEaReR ${token}`, `Bearer   ${token}`, `  Bearer ${token}  `]) {
    const res = await h.app.inject({ url: '/private', headers: { authorization: value } })
    t.equal(res.statusCode, 200, JSON.stringify(value.slice(0, 12)))
    t.strictSame(res.json(), { sub: 'test-user', scheme: 'bearer' })
  }
})

t.test('a token longer than maxTokenLength is refused before decoding', async (t) => {
  const h = await harness(t)
  // 16 KiB + 1 characters, not even b64token: the cap is the first thing looked at.
  for (const token of ['a'.repeat(16385), '!'.repeat(16385), `${'a'.repeat(8000)}.${'b'.repeat(8000)}.${'c'.repeat(400)}`]) {
    const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
    expectInvalidToken(t, res, 'access token too large')
  }
  // Exactly 16 KiB passes the cap and fails later, as an opaque token.
  const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${'a'.repeat(16384)}` } })
  expectInvalidToken(t, res, NOT_A_JWT)
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('maxTokenLength option lowers the cap', async (t) => {
  const h = await harness(t, { maxTokenLength: 256 })
  const token = await h.issuer.token()
  t.ok(token.length > 256)
  const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
  expectInvalidToken(t, res, 'access token too large')
  const ok = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${'x'.repeat(256)}` } })
  expectInvalidToken(t, ok, NOT_A_JWT)
})

t.test('a DPoP proof header sent with the Bearer scheme is refused', async (t) => {
  const h = await harness(t)
  const res = await h.app.inject({ url: '/private', headers: { ...(await h.bearer()), dpop: 'x.y.z' } })
  expectInvalidRequest(t, res, 'DPoP proof sent with the Bearer scheme')
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('two Authorization header lines over a real socket: 400, even on an optional route', async (t) => {
  const h = await harness(t)
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (h.app.server.address() as AddressInfo).port
  const token = await h.issuer.token()
  const challenge = bearerChallenge('invalid_request', 'more than one Authorization header')

  // Positive control through the same socket path: one line passes.
  const one = await rawRequest(port, '/private', [`Authorization: Bearer ${token}`])
  t.equal(one.status, 200)

  for (const [path, lines] of [
    ['/private', [`Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`]],
    ['/private', [`Authorization: Bearer ${token}`, 'authorization: Basic dXNlcjpwYXNz']],
    ['/private', [`AUTHORIZATION: Bearer ${token}`, 'X-Other: 1', `authorization: Bearer ${token}`]],
    ['/optional', [`Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`]]
  ] as Array<[string, string[]]>) {
    const res = await rawRequest(port, path, lines)
    t.equal(res.status, 400, `${path}: two lines`)
    t.strictSame(JSON.parse(res.body), { detail: { error: 'invalid_request', error_description: 'more than one Authorization header' } })
    t.equal(res.headers['www-authenticate'], challenge)
    expectGrammar(t, { statusCode: res.status, headers: res.headers, body: res.body })
  }
})

t.test('a token under the DPoP scheme without a proof is a 400, never accepted as Bearer', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token()
  const res = await h.app.inject({ url: '/private', headers: { authorization: `DPoP ${token}` } })
  expectError(t, res, {
    status: 400,
    error: 'invalid_request',
    description: 'DPoP proof header missing',
    challenge: 'Bearer realm="api", DPoP error="invalid_request", error_description="DPoP proof header missing", algs="ES256"'
  })
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('quotes in a description are escaped in the challenge (RFC 9110 quoted-string)', async (t) => {
  const h = await harness(t)
  const res = await h.app.inject({ url: '/private', headers: { authorization: 'Bearer' } })
  t.equal(res.headers['www-authenticate'],
    'Bearer realm="api", error="invalid_request", error_description="Authorization header must be <scheme> <token>", DPoP algs="ES256"')
  expectGrammar(t, res)
})
