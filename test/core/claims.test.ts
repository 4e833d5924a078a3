/**
 * SPEC §3 step 6: registered claims. `iss` exact (and checked against the allowlist before any
 * fetch), `aud` any overlap, `exp`/`nbf`/`iat` with clockTolerance, `exp`/`iat`/`sub` required.
 */
import t from 'tap'
import Fastify from 'fastify'
import auth0Plugin from '../../lib/index.js'
import { errors as joseErrors } from 'jose'
import type { AuthError } from '../../lib/index.js'
import { InvalidTokenError } from '../../lib/errors.js'
import { checkClaims, mapJoseError } from '../../lib/jwt/claims.js'
import { dpopKey, proof } from '../../lib/testing/index.js'
import { harness, AUDIENCE } from '../helpers/app.js'
import { expectError, expectInvalidToken } from '../helpers/expect.js'
import { claimsFor, signRaw } from '../helpers/jws.js'

const now = (): number => Math.floor(Date.now() / 1000)

t.test('time claims', async (t) => {
  const h = await harness(t)
  const send = async (claims: Record<string, unknown>, expiresIn?: number): Promise<Awaited<ReturnType<typeof h.app.inject>>> =>
    await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${await h.issuer.token(claims, expiresIn === undefined ? {} : { expiresIn })}` } })

  await t.test('expired beyond the tolerance', async (t) => expectInvalidToken(t, await send({}, -30), 'token expired'))
  await t.test('expired within the 5 s tolerance is accepted', async (t) => t.equal((await send({}, -2)).statusCode, 200))
  await t.test('missing exp', async (t) => expectInvalidToken(t, await send({ exp: undefined }), 'missing required exp claim'))
  await t.test('exp not a number', async (t) => expectInvalidToken(t, await send({ exp: String(now() + 3600) }), 'invalid exp claim'))
  await t.test('nbf in the future', async (t) => expectInvalidToken(t, await send({ nbf: now() + 60 }), 'token not yet valid (nbf)'))
  await t.test('nbf within the tolerance is accepted', async (t) => t.equal((await send({ nbf: now() + 2 })).statusCode, 200))
  await t.test('nbf in the past is accepted', async (t) => t.equal((await send({ nbf: now() - 60 })).statusCode, 200))
  await t.test('nbf not a number', async (t) => expectInvalidToken(t, await send({ nbf: 'soon' }), 'invalid nbf claim'))
  await t.test('iat in the future', async (t) => expectInvalidToken(t, await send({ iat: now() + 60 }), 'token issued in the future (iat)'))
  await t.test('iat within the tolerance is accepted', async (t) => t.equal((await send({ iat: now() + 2 })).statusCode, 200))
  await t.test('missing iat', async (t) => expectInvalidToken(t, await send({ iat: undefined }), 'missing required iat claim'))
  await t.test('iat not a number', async (t) => expectInvalidToken(t, await send({ iat: 'yesterday' }), 'invalid iat claim'))
})

t.test('clockTolerance option widens and narrows the window', async (t) => {
  const wide = await harness(t, { clockTolerance: 60 })
  const res = await wide.app.inject({ url: '/private', headers: { authorization: `Bearer ${await wide.issuer.token({ nbf: now() + 30, iat: now() + 30 }, { expiresIn: -30 })}` } })
  t.equal(res.statusCode, 200)
  const strict = await harness(t, { clockTolerance: 0 })
  const expired = await strict.app.inject({ url: '/private', headers: { authorization: `Bearer ${await strict.issuer.token({}, { expiresIn: -2 })}` } })
  expectInvalidToken(t, expired, 'token expired')
})

t.test('sub', async (t) => {
  const h = await harness(t)
  for (const [name, claims, description] of [
    ['missing', { sub: undefined }, 'missing required sub claim'],
    ['empty', { sub: '' }, 'invalid sub claim'],
    ['a number', { sub: 42 }, 'invalid sub claim'],
    ['an object', { sub: { id: 'x' } }, 'invalid sub claim'],
    ['null', { sub: null }, 'invalid sub claim']
  ] as Array<[string, Record<string, unknown>, string]>) {
    await t.test(name, async (t) => {
      expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer(claims) }), description)
    })
  }
})

t.test('iss naming another issuer: 401 with no discovery or JWKS request at all', async (t) => {
  const h = await harness(t)
  for (const iss of ['https://evil.example.com/', 'https://attacker.example/', `${h.issuer.issuer}evil/`, h.issuer.issuer.toUpperCase(),
    h.issuer.issuer.replace('127.0.0.1', 'localhost'), `${h.issuer.issuer} `, h.issuer.issuer.replace('http:', 'https:')]) {
    expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ iss }) }), 'issuer not allowed')
  }
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 }, 'no network for a foreign issuer')
  for (const iss of [undefined, '', 42, ['x']]) {
    expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ iss }) }), 'access token has no iss claim')
  }
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('iss trailing-slash variants: the issuer has the slash, the token does not', async (t) => {
  const h = await harness(t)
  t.ok(h.issuer.issuer.endsWith('/'))
  const withoutSlash = h.issuer.issuer.slice(0, -1)
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ iss: withoutSlash }) }), 'issuer not allowed')
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ iss: `${h.issuer.issuer}/` }) }), 'issuer not allowed')
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 })
})

t.test('issuerBaseURL written without the trailing slash of a root-path issuer', async (t) => {
  const h = await harness(t, {}, {})
  const withoutSlash = h.issuer.issuer.slice(0, -1)
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: withoutSlash, audience: AUDIENCE, env: {} })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => await app.close())
  // The issuer's discovery names it with the slash: tokens must carry exactly that.
  t.equal((await app.inject({ url: '/private', headers: await h.bearer() })).statusCode, 200)
  expectInvalidToken(t, await app.inject({ url: '/private', headers: await h.bearer({ iss: withoutSlash }) }), 'unexpected iss claim value')
})

t.test('an issuer whose identifier has no trailing slash (discovery says so) is usable', async (t) => {
  const h = await harness(t)
  const withoutSlash = h.issuer.issuer.slice(0, -1)
  h.issuer.setDiscovery({ issuer: withoutSlash })
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: withoutSlash, audience: AUDIENCE, env: {} })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => await app.close())
  t.equal((await app.inject({ url: '/private', headers: await h.bearer({ iss: withoutSlash }) })).statusCode, 200)
  expectInvalidToken(t, await app.inject({ url: '/private', headers: await h.bearer() }), 'unexpected iss claim value')
})

t.test('a path-based issuer with a fixed jwksUri: only the configured spelling passes the allowlist', async (t) => {
  const h = await harness(t)
  const tenant = `${h.issuer.issuer}tenant`
  const app = Fastify()
  // jwksUri given: no discovery, the configured spelling is the exact one.
  await app.register(auth0Plugin, { domains: [{ issuer: tenant, jwksUri: h.issuer.jwksUri }], audience: AUDIENCE, env: {} })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => await app.close())
  t.equal((await app.inject({ url: '/private', headers: await h.bearer({ iss: tenant }) })).statusCode, 200)
  // Nothing is discovered to pin another spelling: the other one is refused before any fetch.
  expectInvalidToken(t, await app.inject({ url: '/private', headers: await h.bearer({ iss: `${tenant}/` }) }), 'issuer not allowed')
  expectInvalidToken(t, await app.inject({ url: '/private', headers: await h.bearer({ iss: `${tenant}//` }) }), 'issuer not allowed')
  expectInvalidToken(t, await app.inject({ url: '/private', headers: await h.bearer() }), 'issuer not allowed')
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 1 }, 'no discovery with a fixed jwksUri')
})

t.test('aud', async (t) => {
  const h = await harness(t)
  await t.test('wrong audience', async (t) => expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ aud: 'https://other.example.com/' }) }), 'unexpected aud claim value'))
  await t.test('audience without its trailing slash is another audience', async (t) => expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ aud: AUDIENCE.slice(0, -1) }) }), 'unexpected aud claim value'))
  await t.test('missing', async (t) => expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ aud: undefined }) }), 'missing required aud claim'))
  await t.test('array without overlap', async (t) => expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ aud: ['https://a.example/', 'https://b.example/'] }) }), 'unexpected aud claim value'))
  await t.test('array with overlap is accepted', async (t) => t.equal((await h.app.inject({ url: '/private', headers: await h.bearer({ aud: ['https://a.example/', AUDIENCE, 'https://issuer.example/userinfo'] }) })).statusCode, 200))
})

t.test('audience option as a list: any overlap passes', async (t) => {
  const h = await harness(t, { audience: ['https://first.example/', 'https://second.example/'] })
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer({ aud: 'https://second.example/' }) })).statusCode, 200)
  t.equal((await h.app.inject({ url: '/private', headers: await h.bearer({ aud: ['https://x.example/', 'https://first.example/'] }) })).statusCode, 200)
  expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ aud: AUDIENCE }) }), 'unexpected aud claim value')
})

t.test('the verified claims reach the handler untouched', async (t) => {
  const h = await harness(t)
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: h.issuer.issuerBaseURL, audience: AUDIENCE, env: {} })
  app.get('/claims', { preHandler: app.requireAuth() }, async (request) => ({ claims: request.claims, auth: request.auth }))
  app.get('/hook', { onRequest: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => await app.close())
  const token = await h.issuer.token({ sub: 'auth0|123', scope: 'read:messages', 'https://example.com/roles': ['admin'] })
  const res = await app.inject({ url: '/claims', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.match(body.claims, { iss: h.issuer.issuer, sub: 'auth0|123', aud: AUDIENCE, scope: 'read:messages', 'https://example.com/roles': ['admin'] })
  t.strictSame(body.auth, { scheme: 'bearer', token })
  // The hook works as onRequest too.
  t.strictSame((await app.inject({ url: '/hook', headers: { authorization: `Bearer ${token}` } })).json(), { sub: 'auth0|123' })
  expectInvalidToken(t, await app.inject({ url: '/hook', headers: await h.bearer({ aud: 'x' }) }), 'unexpected aud claim value')
})

t.test('each claim refusal has its own reason (onAuthError), and its own description', async (t) => {
  const reasons: string[] = []
  const h = await harness(t, { onAuthError: (error: AuthError) => { reasons.push(error.reason) } })
  const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'
  const key = h.issuer.currentKey
  const foreign = await h.issuer.foreignKey()
  const raw = async (header: Record<string, unknown>): Promise<string> =>
    await signRaw({ alg: 'RS256', kid: key.kid, ...header }, claimsFor(h.issuer.issuer, AUDIENCE), key.privateKey)
  const cases: Array<[string, () => Promise<string>, string, string]> = [
    ['expired', async () => await h.issuer.token({}, { expiresIn: -30 }), 'token_expired', 'token expired'],
    ['exp missing', async () => await h.issuer.token({ exp: undefined }), 'claim_missing', 'missing required exp claim'],
    ['exp not a number', async () => await h.issuer.token({ exp: String(now() + 3600) }), 'exp_invalid', 'invalid exp claim'],
    ['nbf in the future', async () => await h.issuer.token({ nbf: now() + 60 }), 'token_not_yet_valid', 'token not yet valid (nbf)'],
    ['nbf not a number', async () => await h.issuer.token({ nbf: 'soon' }), 'nbf_invalid', 'invalid nbf claim'],
    ['iat not a number', async () => await h.issuer.token({ iat: 'yesterday' }), 'iat_invalid', 'invalid iat claim'],
    ['iat in the future', async () => await h.issuer.token({ iat: now() + 60 }), 'iat_invalid', 'token issued in the future (iat)'],
    ['aud another', async () => await h.issuer.token({ aud: 'https://other.example/' }), 'audience_mismatch', 'unexpected aud claim value'],
    ['sub empty', async () => await h.issuer.token({ sub: '' }), 'sub_invalid', 'invalid sub claim'],
    ['signed by a foreign key under the issuer kid', async () => await h.issuer.token({}, { signingKey: foreign.privateKey }), 'signature_invalid', 'signature verification failed'],
    ['crit naming an unknown extension', async () => await raw({ crit: ['urn:example:x'], 'urn:example:x': true }), 'header_unsupported', 'token uses an unsupported header or algorithm'],
    ['crit empty', async () => await raw({ crit: [] }), 'malformed', 'access token is malformed'],
    // cnf: an object; jkt and x5t#S256, when present, non-empty strings; no other member.
    ['cnf a string', async () => await h.issuer.token({ cnf: 'jkt' }), 'cnf_invalid', 'invalid cnf claim'],
    ['cnf null', async () => await h.issuer.token({ cnf: null }), 'cnf_invalid', 'invalid cnf claim'],
    ['cnf an array', async () => await h.issuer.token({ cnf: [JKT] }), 'cnf_invalid', 'invalid cnf claim'],
    ['cnf.jkt empty', async () => await h.issuer.token({ cnf: { jkt: '' } }), 'cnf_invalid', 'invalid cnf claim'],
    ['cnf.jkt a number', async () => await h.issuer.token({ cnf: { jkt: 42 } }), 'cnf_invalid', 'invalid cnf claim'],
    ['cnf.x5t#S256 empty', async () => await h.issuer.token({ cnf: { 'x5t#S256': '' } }), 'cnf_invalid', 'invalid cnf claim'],
    ['cnf.x5t#S256 a number', async () => await h.issuer.token({ cnf: { 'x5t#S256': 42 } }), 'cnf_invalid', 'invalid cnf claim'],
    ['cnf.jwk', async () => await h.issuer.token({ cnf: { jwk: { kty: 'EC' } } }), 'binding_unsupported', 'token bound by an unsupported confirmation method'],
    ['cnf.jkt with a kid beside it', async () => await h.issuer.token({ cnf: { jkt: JKT, kid: 'k1' } }), 'binding_unsupported', 'token bound by an unsupported confirmation method'],
    // Well-formed bindings pass the claim checks and are judged by the binding they name.
    ['cnf.jkt well-formed, under Bearer', async () => await h.issuer.token({ cnf: { jkt: JKT } }), 'bound_token_as_bearer', 'DPoP-bound token presented with the Bearer scheme'],
    ['cnf.x5t#S256 well-formed, no mtls option', async () => await h.issuer.token({ cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }), 'binding_unsupported', 'token bound by an unsupported confirmation method']
  ]
  for (const [name, mint, reason, description] of cases) {
    reasons.length = 0
    const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${await mint()}` } })
    expectInvalidToken(t, res, description)
    t.strictSame(reasons, [reason], `${name}: ${reason}`)
  }
  // An empty cnf binds nothing, and a claim named like a member of cnf elsewhere is no binding.
  for (const claims of [{ cnf: {} }, { jkt: JKT, jwk: { kty: 'EC' } }]) {
    reasons.length = 0
    t.equal((await h.app.inject({ url: '/private', headers: await h.bearer(claims) })).statusCode, 200, JSON.stringify(claims))
    t.strictSame(reasons, [])
  }
})

t.test('an issuer of another spelling than the discovered one: issuer_mismatch', async (t) => {
  const h = await harness(t, {}, {})
  const reasons: string[] = []
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: h.issuer.issuer.slice(0, -1), audience: AUDIENCE, env: {}, onAuthError: (error: AuthError) => { reasons.push(error.reason) } })
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  t.teardown(async () => await app.close())
  expectInvalidToken(t, await app.inject({ url: '/private', headers: await h.bearer({ iss: h.issuer.issuer.slice(0, -1) }) }), 'unexpected iss claim value')
  t.strictSame(reasons, ['issuer_mismatch'])
})

t.test('a claim refusal of a DPoP request goes on the DPoP challenge', async (t) => {
  const h = await harness(t)
  const key = await dpopKey()
  const send = async (claims: Record<string, unknown>, expiresIn = 3600): Promise<Awaited<ReturnType<typeof h.app.inject>>> => {
    const token = await h.issuer.token(claims, { dpopKey: key, expiresIn })
    const dpop = await proof({ key, url: 'http://api.example.com/private', accessToken: token })
    return await h.app.inject({ url: '/private', headers: { host: 'api.example.com', authorization: `DPoP ${token}`, dpop } })
  }
  t.equal((await send({})).statusCode, 200, 'positive control: a valid DPoP request')
  for (const [claims, expiresIn, description] of [
    [{}, -30, 'token expired'],
    [{ aud: 'https://other.example/' }, 3600, 'unexpected aud claim value'],
    [{ sub: '' }, 3600, 'invalid sub claim'],
    [{ iat: now() + 60 }, 3600, 'token issued in the future (iat)'],
    [{ cnf: { jkt: '' } }, 3600, 'invalid cnf claim'],
    [{ cnf: { jkt: key.jkt, kid: 'k1' } }, 3600, 'token bound by an unsupported confirmation method']
  ] as Array<[Record<string, unknown>, number, string]>) {
    expectError(t, await send(claims, expiresIn), {
      status: 401,
      error: 'invalid_token',
      description,
      challenge: `Bearer realm="api", DPoP error="invalid_token", error_description="${description}", algs="ES256"`
    })
  }
})

t.test('checkClaims: iat exactly at now + clockTolerance is accepted (the bound is inclusive, like jose\'s nbf)', async (t) => {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const fixed = 1_800_000_000_000
  Date.now = () => fixed
  const rules = { issuer: 'https://issuer.example/', audience: [AUDIENCE], algorithms: ['RS256'], clockTolerance: 5 }
  const payload = { iss: rules.issuer, aud: AUDIENCE, sub: 's', exp: fixed / 1000 + 60, iat: fixed / 1000 + 5 }
  t.equal(checkClaims(payload, rules, 'bearer'), payload)
  t.throws(() => checkClaims({ ...payload, iat: fixed / 1000 + 6 }, rules, 'bearer'), new InvalidTokenError('iat_invalid', 'token issued in the future (iat)', { scheme: 'bearer' }))
})

t.test('mapJoseError: an error jose does not name as a token problem is not a refusal (it becomes a 500)', async (t) => {
  for (const err of [new TypeError('CryptoKey does not support this operation'), new joseErrors.JOSEAlgNotAllowed('x'), new Error('x')]) {
    t.equal(mapJoseError(err, 'bearer'), err, err.constructor.name)
  }
  const mapped = mapJoseError(new joseErrors.JWSInvalid('x'), 'dpop') as InvalidTokenError
  t.match(mapped, { reason: 'malformed', scheme: 'dpop' })
})

t.test('with the mtls option, a well-formed x5t#S256 binding passes the claim checks and is judged by the certificate', async (t) => {
  const reasons: string[] = []
  const h = await harness(t, { mtls: true, onAuthError: (error: AuthError) => { reasons.push(error.reason) } })
  const description = 'certificate-bound token sent without a client certificate'
  for (const cnf of [{ 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }]) {
    expectInvalidToken(t, await h.app.inject({ url: '/private', headers: await h.bearer({ cnf }) }), description)
  }
  t.strictSame(reasons, ['mtls_certificate_missing'])
})
