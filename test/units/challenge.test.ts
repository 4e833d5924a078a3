/**
 * lib/http/challenge.ts on its own: the one WWW-Authenticate line for each (mode, error scheme,
 * status), the headers each error class gets, and memoised lines that never mix two errors.
 * test/core/challenges.test.ts pins the SPEC §4 shapes; this file pins the branches.
 */
import t, { type Test } from 'tap'
import { Challenges, quote } from '../../lib/http/challenge.js'
import {
  AuthError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InternalAuthError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  IssuerUnavailableError,
  MissingCredentialsError,
  ReplayStoreUnavailableError,
  UseDpopNonceError
} from '../../lib/errors.js'
import { expectGrammar } from '../helpers/expect.js'

/** The error after `apply`, its reply (status, headers, body) put through the grammar oracle. */
function checked<E extends AuthError> (t: Pick<Test, 'ok'>, err: E): E {
  expectGrammar(t, { statusCode: err.statusCode, headers: err.headers, body: err.toJSON() })
  return err
}

const META = 'https://api.example.com/.well-known/oauth-protected-resource'

t.test('quote escapes every " and \\ (RFC 9110 quoted-string)', async (t) => {
  t.equal(quote('plain text'), '"plain text"')
  t.equal(quote(''), '""')
  t.equal(quote('a"b"c'), '"a\\"b\\"c"')
  t.equal(quote('a\\b\\c'), '"a\\\\b\\\\c"')
  t.equal(quote('"\\'), '"\\"\\\\"')
})

t.test('bare lines per mode (no error)', async (t) => {
  const c = new Challenges({ realm: 'r1', dpopAlgorithms: ['ES256', 'PS256'] })
  t.equal(c.line('allowed'), 'Bearer realm="r1", DPoP algs="ES256 PS256"')
  t.equal(c.line('disabled'), 'Bearer realm="r1"')
  t.equal(c.line('required'), 'DPoP algs="ES256 PS256"')
})

t.test('error parameters go on the challenge of their scheme, in RFC order', async (t) => {
  const c = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256'] })
  const bearer = { scheme: 'bearer' as const, code: 'invalid_token', description: 'expired' }
  const dpop = { scheme: 'dpop' as const, code: 'invalid_dpop_proof', description: 'bad proof' }
  t.equal(c.line('allowed', bearer), 'Bearer realm="api", error="invalid_token", error_description="expired", DPoP algs="ES256"')
  t.equal(c.line('allowed', dpop), 'Bearer realm="api", DPoP error="invalid_dpop_proof", error_description="bad proof", algs="ES256"')
  t.equal(c.line('disabled', bearer), 'Bearer realm="api", error="invalid_token", error_description="expired"')
  t.equal(c.line('disabled', dpop), 'Bearer realm="api"', 'no DPoP challenge to carry it')
  t.equal(c.line('required', dpop), 'DPoP error="invalid_dpop_proof", error_description="bad proof", algs="ES256"')
  t.equal(c.line('required', bearer), 'DPoP algs="ES256"', 'no Bearer challenge to carry it')
  t.equal(c.line('allowed', { ...bearer, code: 'insufficient_scope', scope: 'a b' }, 403), 'Bearer realm="api", error="insufficient_scope", error_description="expired", scope="a b", DPoP algs="ES256"')
  t.equal(c.line('allowed', { ...dpop, code: 'insufficient_scope', scope: 'a b' }, 403), 'Bearer realm="api", DPoP error="insufficient_scope", error_description="bad proof", scope="a b", algs="ES256"')
})

t.test('resource_metadata on every challenge of a 401, and only of a 401', async (t) => {
  const c = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256'], resourceMetadata: META })
  t.equal(c.line('allowed'), `Bearer realm="api", resource_metadata="${META}", DPoP algs="ES256", resource_metadata="${META}"`)
  t.equal(c.line('allowed', { scheme: 'bearer', code: 'invalid_token', description: 'd' }, 401), `Bearer realm="api", error="invalid_token", error_description="d", resource_metadata="${META}", DPoP algs="ES256", resource_metadata="${META}"`)
  t.equal(c.line('required', { scheme: 'dpop', code: 'invalid_request', description: 'd' }, 400), 'DPoP error="invalid_request", error_description="d", algs="ES256"')
  t.equal(c.line('disabled', { scheme: 'bearer', code: 'insufficient_scope', description: 'd', scope: 's' }, 403), 'Bearer realm="api", error="insufficient_scope", error_description="d", scope="s"')
})

t.test('memoised lines never mix two different calls on one instance', async (t) => {
  const c = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256'], resourceMetadata: META })
  const base = { scheme: 'bearer' as const, code: 'invalid_token', description: 'one' }
  // Each call differs from the one before in a single input; each must get its own line.
  const calls: Array<[Parameters<Challenges['line']>, string]> = [
    [['allowed'], `Bearer realm="api", resource_metadata="${META}", DPoP algs="ES256", resource_metadata="${META}"`],
    [['disabled'], `Bearer realm="api", resource_metadata="${META}"`],
    [['disabled', undefined, 403], 'Bearer realm="api"'],
    [['disabled', base, 403], 'Bearer realm="api", error="invalid_token", error_description="one"'],
    [['disabled', base, 401], `Bearer realm="api", error="invalid_token", error_description="one", resource_metadata="${META}"`],
    [['disabled', { ...base, description: 'two' }], `Bearer realm="api", error="invalid_token", error_description="two", resource_metadata="${META}"`],
    [['disabled', { ...base, code: 'invalid_request' }], `Bearer realm="api", error="invalid_request", error_description="one", resource_metadata="${META}"`],
    [['disabled', { ...base, scope: 'x' }], `Bearer realm="api", error="invalid_token", error_description="one", scope="x", resource_metadata="${META}"`],
    [['disabled', { ...base, scope: 'y' }], `Bearer realm="api", error="invalid_token", error_description="one", scope="y", resource_metadata="${META}"`],
    // A separator inside a value (a scope may hold `|`) must not make two calls one.
    [['disabled', { ...base, scope: 'x|' }], `Bearer realm="api", error="invalid_token", error_description="one", scope="x|", resource_metadata="${META}"`],
    [['disabled', { ...base, description: 'one|x' }], `Bearer realm="api", error="invalid_token", error_description="one|x", resource_metadata="${META}"`],
    [['disabled', { ...base, acrValues: 'mfa' }], `Bearer realm="api", error="invalid_token", error_description="one", acr_values="mfa", resource_metadata="${META}"`],
    [['disabled', { ...base, acrValues: 'hwk' }], `Bearer realm="api", error="invalid_token", error_description="one", acr_values="hwk", resource_metadata="${META}"`],
    [['disabled', { ...base, maxAge: 60 }], `Bearer realm="api", error="invalid_token", error_description="one", max_age="60", resource_metadata="${META}"`],
    [['disabled', { ...base, maxAge: 120 }], `Bearer realm="api", error="invalid_token", error_description="one", max_age="120", resource_metadata="${META}"`],
    [['allowed', { ...base, scheme: 'dpop' }], `Bearer realm="api", resource_metadata="${META}", DPoP error="invalid_token", error_description="one", algs="ES256", resource_metadata="${META}"`],
    [['allowed', base], `Bearer realm="api", error="invalid_token", error_description="one", resource_metadata="${META}", DPoP algs="ES256", resource_metadata="${META}"`]
  ]
  for (let round = 0; round < 2; round++) {
    for (const [args, line] of calls) t.equal(c.line(...args), line, `round ${round}: ${JSON.stringify(args)}`)
  }
})

t.test('apply: the error goes on the scheme used, moved to the one the route offers', async (t) => {
  const c = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256'] })
  const line = (err: InvalidTokenError | InvalidRequestError, mode: 'allowed' | 'required' | 'disabled'): string | undefined => checked(t, c.apply(err, mode)).headers['www-authenticate']
  const token = (scheme?: 'bearer' | 'dpop'): InvalidTokenError => new InvalidTokenError('token_expired', 'expired', scheme === undefined ? {} : { scheme })
  const onBearer = 'Bearer realm="api", error="invalid_token", error_description="expired", DPoP algs="ES256"'
  const onDpop = 'Bearer realm="api", DPoP error="invalid_token", error_description="expired", algs="ES256"'
  t.equal(line(token('bearer'), 'allowed'), onBearer)
  t.equal(line(token('dpop'), 'allowed'), onDpop)
  t.equal(line(token(), 'allowed'), onBearer, 'no scheme known: Bearer')
  t.equal(line(token(), 'required'), 'DPoP error="invalid_token", error_description="expired", algs="ES256"', 'no scheme known, DPoP-only route: DPoP')
  t.equal(line(token('bearer'), 'required'), 'DPoP error="invalid_token", error_description="expired", algs="ES256"')
  t.equal(line(token(), 'disabled'), 'Bearer realm="api", error="invalid_token", error_description="expired"')
  t.equal(line(token('dpop'), 'disabled'), 'Bearer realm="api", error="invalid_token", error_description="expired"')
  t.equal(line(token('dpop'), 'required'), 'DPoP error="invalid_token", error_description="expired", algs="ES256"')
  const request = new InvalidRequestError('authorization_header_malformed', 'malformed')
  t.equal(line(request, 'allowed'), 'Bearer realm="api", error="invalid_request", error_description="malformed", DPoP algs="ES256"')
})

t.test('apply: the headers of each error class', async (t) => {
  const challenges = new Challenges({ realm: 'api', dpopAlgorithms: ['ES256'], resourceMetadata: META })
  // Every line built here also goes through the grammar oracle.
  const c = { apply: (err: AuthError, mode: 'allowed' | 'required' | 'disabled'): AuthError => checked(t, challenges.apply(err, mode)) }
  t.strictSame(c.apply(new IssuerUnavailableError('issuer_unavailable', 'down', 7), 'allowed').headers, { 'retry-after': '7' })
  t.strictSame(c.apply(new ReplayStoreUnavailableError('replay_store_unavailable', 'down', 1), 'required').headers, { 'retry-after': '1' })
  t.strictSame(c.apply(new InternalAuthError('unexpected'), 'allowed').headers, {})
  t.strictSame(c.apply(new MissingCredentialsError(), 'disabled').headers, { 'www-authenticate': `Bearer realm="api", resource_metadata="${META}"` })
  t.strictSame(c.apply(new InsufficientScopeError(['read:a', 'write:b'], 'insufficient scope', 'bearer'), 'disabled').headers, {
    'www-authenticate': 'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="read:a write:b"'
  }, '403: scopes space-separated, no resource_metadata')
  t.strictSame(c.apply(new InsufficientScopeError(['only'], 'insufficient scope', 'dpop'), 'required').headers, {
    'www-authenticate': 'DPoP error="insufficient_scope", error_description="insufficient scope", scope="only", algs="ES256"'
  })
  t.strictSame(c.apply(new UseDpopNonceError('dpop_nonce_missing', 'nonce required', 'n0nce'), 'required').headers, {
    'www-authenticate': `DPoP error="use_dpop_nonce", error_description="nonce required", algs="ES256", resource_metadata="${META}"`,
    'dpop-nonce': 'n0nce'
  })
  t.strictSame(c.apply(new InvalidDpopProofError('dpop_htm_mismatch', 'htm mismatch'), 'allowed').headers, {
    'www-authenticate': `Bearer realm="api", resource_metadata="${META}", DPoP error="invalid_dpop_proof", error_description="htm mismatch", algs="ES256", resource_metadata="${META}"`
  }, 'no dpop-nonce header on other errors')
  t.strictSame(c.apply(new InsufficientUserAuthenticationError('acr_insufficient', 'stronger authentication required', 'bearer', 'mfa hwk', 300), 'disabled').headers, {
    'www-authenticate': `Bearer realm="api", error="insufficient_user_authentication", error_description="stronger authentication required", acr_values="mfa hwk", max_age="300", resource_metadata="${META}"`
  }, 'step-up: acr_values and max_age (RFC 9470 §3)')
  const stepUp = new InsufficientUserAuthenticationError('acr_insufficient', 'stronger authentication required', 'dpop', 'mfa', undefined)
  stepUp.requiredScopes = ['read:a']
  t.strictSame(c.apply(stepUp, 'required').headers, {
    'www-authenticate': `DPoP error="insufficient_user_authentication", error_description="stronger authentication required", scope="read:a", acr_values="mfa", algs="ES256", resource_metadata="${META}"`
  }, 'step-up: the scopes also lacking, no max_age when the route sets none')
  const err = new InvalidTokenError('x', 'y', { scheme: 'bearer' })
  t.equal(c.apply(err, 'disabled'), err, 'apply fills and returns the same error')
})
