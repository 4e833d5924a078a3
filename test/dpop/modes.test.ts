/**
 * DPoP modes × schemes × token kinds (SPEC §3 steps 2 and 7, §4 challenges), the per-route
 * override and the proof-header rules. Every answer's status, body and exact WWW-Authenticate.
 */
import t from 'tap'
import { dpopKey } from '../../lib/testing/index.js'
import { body, dpopChallenge, dpopHarness, type Asserts, type DpopHarness } from './helpers.js'
import { expectGrammar } from '../helpers/expect.js'

const BOUND_AS_BEARER = 'DPoP-bound token presented with the Bearer scheme'
const NOT_BOUND = 'DPoP scheme used with a token that is not DPoP-bound'

interface Case {
  name: string
  scheme: 'Bearer' | 'DPoP'
  bound: boolean
  status: number
  error?: string
  description?: string
  challenge: string
}

const matrix: Record<'allowed' | 'required' | 'disabled', Case[]> = {
  allowed: [
    { name: 'Bearer + unbound token', scheme: 'Bearer', bound: false, status: 200, challenge: '' },
    { name: 'Bearer + bound token', scheme: 'Bearer', bound: true, status: 401, error: 'invalid_token', description: BOUND_AS_BEARER, challenge: `Bearer realm="api", error="invalid_token", error_description="${BOUND_AS_BEARER}", DPoP algs="ES256"` },
    { name: 'DPoP + bound token', scheme: 'DPoP', bound: true, status: 200, challenge: '' },
    { name: 'DPoP + unbound token', scheme: 'DPoP', bound: false, status: 401, error: 'invalid_token', description: NOT_BOUND, challenge: `Bearer realm="api", DPoP error="invalid_token", error_description="${NOT_BOUND}", algs="ES256"` }
  ],
  required: [
    { name: 'Bearer + unbound token', scheme: 'Bearer', bound: false, status: 400, error: 'invalid_request', description: 'DPoP authorization scheme required', challenge: 'DPoP error="invalid_request", error_description="DPoP authorization scheme required", algs="ES256"' },
    { name: 'Bearer + bound token', scheme: 'Bearer', bound: true, status: 400, error: 'invalid_request', description: 'DPoP authorization scheme required', challenge: 'DPoP error="invalid_request", error_description="DPoP authorization scheme required", algs="ES256"' },
    { name: 'DPoP + bound token', scheme: 'DPoP', bound: true, status: 200, challenge: '' },
    { name: 'DPoP + unbound token', scheme: 'DPoP', bound: false, status: 401, error: 'invalid_token', description: NOT_BOUND, challenge: `DPoP error="invalid_token", error_description="${NOT_BOUND}", algs="ES256"` }
  ],
  disabled: [
    { name: 'Bearer + unbound token', scheme: 'Bearer', bound: false, status: 200, challenge: '' },
    { name: 'Bearer + bound token', scheme: 'Bearer', bound: true, status: 401, error: 'invalid_token', description: BOUND_AS_BEARER, challenge: `Bearer realm="api", error="invalid_token", error_description="${BOUND_AS_BEARER}"` },
    { name: 'DPoP + bound token', scheme: 'DPoP', bound: true, status: 400, error: 'invalid_request', description: 'DPoP authorization scheme not accepted', challenge: 'Bearer realm="api", error="invalid_request", error_description="DPoP authorization scheme not accepted"' },
    { name: 'DPoP + unbound token', scheme: 'DPoP', bound: false, status: 400, error: 'invalid_request', description: 'DPoP authorization scheme not accepted', challenge: 'Bearer realm="api", error="invalid_request", error_description="DPoP authorization scheme not accepted"' }
  ]
}

const anonymous: Record<keyof typeof matrix, string> = {
  allowed: 'Bearer realm="api", DPoP algs="ES256"',
  required: 'DPoP algs="ES256"',
  disabled: 'Bearer realm="api"'
}

async function run (t: Asserts, h: DpopHarness, path: string, c: Case): Promise<void> {
  const token = c.bound ? await h.boundToken() : await h.bearerToken()
  const res = await h.send({ path, scheme: c.scheme, token, ...(c.scheme === 'DPoP' ? { proof: await h.proofFor(token, path) } : {}) })
  t.equal(res.statusCode, c.status, 'status')
  if (c.status === 200) {
    t.equal(res.json().auth.scheme, c.scheme.toLowerCase(), 'request.auth.scheme')
    t.equal(res.json().auth.jkt, c.bound && c.scheme === 'DPoP' ? h.key.jkt : undefined, 'request.auth.jkt')
    t.equal(res.headers['www-authenticate'], undefined, 'no challenge')
    expectGrammar(t, res)
  } else {
    t.same(res.json(), body(c.error as string, c.description as string), 'body')
    t.equal(res.headers['www-authenticate'], c.challenge, 'challenge')
    expectGrammar(t, res)
  }
}


for (const mode of ['allowed', 'required', 'disabled'] as const) {
  t.test(`mode ${mode}`, async (t) => {
    const h = await dpopHarness(t, { dpop: { mode } })
    for (const c of matrix[mode]) await t.test(c.name, async (t) => run(t, h, '/private', c))
    await t.test('no credentials', async (t) => {
      const res = await h.send({ path: '/private' })
      t.equal(res.statusCode, 401)
      t.same(res.json(), body('invalid_request', 'authorization header missing'))
      t.equal(res.headers['www-authenticate'], anonymous[mode])
      expectGrammar(t, res)
    })
    await t.test('Bearer scheme with a DPoP header', async (t) => {
      const token = await h.bearerToken()
      const res = await h.send({ path: '/private', scheme: 'Bearer', token, proof: await h.proofFor(token, '/private') })
      const description = mode === 'required' ? 'DPoP authorization scheme required' : 'DPoP proof sent with the Bearer scheme'
      t.equal(res.statusCode, 400)
      t.same(res.json(), body('invalid_request', description))
      t.equal(res.headers['www-authenticate'], {
        allowed: `Bearer realm="api", error="invalid_request", error_description="${description}", DPoP algs="ES256"`,
        required: `DPoP error="invalid_request", error_description="${description}", algs="ES256"`,
        disabled: `Bearer realm="api", error="invalid_request", error_description="${description}"`
      }[mode])
      expectGrammar(t, res)
    })
  })
}

t.test('per-route dpop: "required" overrides the plugin mode', async (t) => {
  for (const mode of ['allowed', 'disabled'] as const) {
    await t.test(`plugin mode ${mode}`, async (t) => {
      const h = await dpopHarness(t, { dpop: { mode } })
      for (const c of matrix.required) await t.test(c.name, async (t) => run(t, h, '/required', c))
      const res = await h.send({ path: '/required' })
      t.equal(res.statusCode, 401)
      t.equal(res.headers['www-authenticate'], 'DPoP algs="ES256"', 'the anonymous challenge is the route\'s')
      expectGrammar(t, res)
    })
  }
})

t.test('AUTH0_DPOP_MODE sets the mode; the option wins over it', async (t) => {
  const fromEnv = await dpopHarness(t, { env: { AUTH0_DPOP_MODE: 'required' } })
  for (const c of matrix.required) await t.test(`env required: ${c.name}`, async (t) => run(t, fromEnv, '/private', c))
  const option = await dpopHarness(t, { env: { AUTH0_DPOP_MODE: 'required' }, dpop: { mode: 'disabled' } })
  for (const c of matrix.disabled) await t.test(`option disabled: ${c.name}`, async (t) => run(t, option, '/private', c))
})

t.test('proof header rules (400 invalid_request, before the token is looked at)', async (t) => {
  const h = await dpopHarness(t)
  const token = await h.boundToken()
  const challenge = (description: string): string => `Bearer realm="api", DPoP error="invalid_request", error_description="${description}", algs="ES256"`
  const check = async (t: Asserts, headers: Record<string, string | string[]>, description: string, sendToken = token): Promise<void> => {
    const res = await h.send({ path: '/private', token: sendToken, headers })
    t.equal(res.statusCode, 400)
    t.same(res.json(), body('invalid_request', description))
    t.equal(res.headers['www-authenticate'], challenge(description))
    expectGrammar(t, res)
  }
  await t.test('DPoP scheme without a proof', async (t) => check(t, {}, 'DPoP proof header missing'))
  await t.test('empty DPoP header', async (t) => check(t, { dpop: '  ' }, 'DPoP proof header missing'))
  await t.test('comma in the DPoP header (two proofs in one line)', async (t) => {
    const a = await h.proofFor(token, '/private')
    await check(t, { dpop: `${a}, ${a}` }, 'more than one DPoP proof')
  })
  await t.test('two DPoP header lines', async (t) => {
    const a = await h.proofFor(token, '/private')
    await check(t, { dpop: [a, await h.proofFor(token, '/private')] }, 'more than one DPoP header')
  })
  await t.test('garbage token: header rules still come first', async (t) => check(t, {}, 'DPoP proof header missing', 'not-a-jwt'))
  await t.test('a bad proof is refused before a garbage token is decoded', async (t) => {
    const res = await h.send({ path: '/private', token: 'not-a-jwt', proof: 'not.a.proof' })
    t.equal(res.statusCode, 401)
    t.same(res.json(), body('invalid_dpop_proof', 'DPoP proof is not a compact JWS with JSON header and payload'))
    t.equal(res.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof is not a compact JWS with JSON header and payload'))
    expectGrammar(t, res)
  })
  await t.test('a good proof with a garbage token: the token error, on the DPoP challenge', async (t) => {
    const res = await h.send({ path: '/private', token: 'not-a-jwt', proof: await h.proofFor('not-a-jwt', '/private') })
    t.equal(res.statusCode, 401)
    const description = 'not a JWT access token (opaque or encrypted); did the client request an audience?'
    t.same(res.json(), body('invalid_token', description))
    t.equal(res.headers['www-authenticate'], `Bearer realm="api", DPoP error="invalid_token", error_description="${description}", algs="ES256"`)
    expectGrammar(t, res)
  })
})

t.test('binding', async (t) => {
  const h = await dpopHarness(t)
  await t.test('cnf.jkt of another key → invalid_token', async (t) => {
    const other = await dpopKey()
    const token = await h.boundToken({}, other)
    const res = await h.send({ path: '/private', token, proof: await h.proofFor(token, '/private') })
    const description = 'DPoP proof key does not match the token binding (cnf.jkt)'
    t.equal(res.statusCode, 401)
    t.same(res.json(), body('invalid_token', description))
    t.equal(res.headers['www-authenticate'], `Bearer realm="api", DPoP error="invalid_token", error_description="DPoP proof key does not match the token binding (cnf.jkt)", algs="ES256"`)
    expectGrammar(t, res)
  })
  await t.test('a valid DPoP request without the route scope → 403 on the DPoP challenge', async (t) => {
    const token = await h.boundToken({ scope: 'other' })
    const res = await h.send({ path: '/messages', token, proof: await h.proofFor(token, '/messages') })
    t.equal(res.statusCode, 403)
    t.same(res.json(), body('insufficient_scope', 'missing scope read:messages'))
    t.equal(res.headers['www-authenticate'], 'Bearer realm="api", DPoP error="insufficient_scope", error_description="missing scope read:messages", scope="read:messages", algs="ES256"')
    expectGrammar(t, res)
  })
  await t.test('with the scope → 200', async (t) => {
    const token = await h.boundToken({ scope: 'read:messages' })
    const res = await h.send({ path: '/messages', token, proof: await h.proofFor(token, '/messages') })
    t.equal(res.statusCode, 200)
  })
  await t.test('optional route: DPoP credentials are verified, a bad proof still fails', async (t) => {
    const token = await h.boundToken()
    const ok = await h.send({ path: '/optional', token, proof: await h.proofFor(token, '/optional') })
    t.equal(ok.statusCode, 200)
    t.equal(ok.json().claims.cnf.jkt, h.key.jkt)
    const bad = await h.send({ path: '/optional', token, proof: await h.proofFor(token, '/private') })
    t.equal(bad.statusCode, 401)
    t.same(bad.json(), body('invalid_dpop_proof', 'DPoP proof htu does not match the request URL'))
    t.equal(bad.headers['www-authenticate'], dpopChallenge('invalid_dpop_proof', 'DPoP proof htu does not match the request URL'))
    expectGrammar(t, bad)
  })
})
