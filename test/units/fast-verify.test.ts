/**
 * lib/jwt/fast-verify.ts on its own: which tokens the fast path decides itself (it returns the very
 * payload object decodeCompactJws read), which it hands back to jose (`undefined`: the caller runs
 * `jwtVerify`), the claim rules at their boundaries on a fixed clock (decided here, or judged by
 * jose's own claim validation: a payload of jose's or jose's error), the one shared bad-signature
 * error, and the per-key memo. Real keys, real signatures. test/perf/differential.test.ts proves
 * the verdicts against plain jose for every token of the suite.
 */
import { KeyObject, webcrypto } from 'node:crypto'
import t, { type Test } from 'tap'
import { errors, jwtVerify, type CryptoKey, type JWTPayload } from 'jose'
import { decodeCompactJws } from '../../lib/jwt/compact.js'
import type { FastVerifyOptions, StrictlyDecoded } from '../../lib/jwt/fast-verify.js'
import { ALGORITHMS, AUDIENCE, b64, generatePair, ISSUER, rawToken, selectKey, type Pair } from '../perf/kit.js'

// Loaded here rather than imported above: loading the module builds the shared bad-signature error
// with Error.stackTraceLimit at 0, and must put the limit back.
const stackTraceLimit = Error.stackTraceLimit
const { checkJwtFast, verifyJwtFast } = await import('../../lib/jwt/fast-verify.js')
const limitAfterLoading = Error.stackTraceLimit

/** The fixed clock (seconds; `Date.now` is 999 ms into that second) for the fast path and jose. */
const NOW = 1_800_000_000
const NOW_MS = NOW * 1000 + 999
const fixClock = (t: Test): void => { t.capture(Date, 'now', () => NOW_MS) }

/** jose's `currentDate` rides along in the options object (the fast path reads `Date.now`). */
type Options = FastVerifyOptions & { currentDate: Date }
const options = (over: Partial<FastVerifyOptions> = {}): Options => ({
  issuer: ISSUER,
  audience: [AUDIENCE],
  algorithms: [...ALGORITHMS],
  clockTolerance: 5,
  requiredClaims: ['exp', 'iat', 'sub'],
  currentDate: new Date(NOW_MS),
  ...over
})
const CLAIMS = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: NOW, exp: NOW + 3600 }

const families = new Map<string, Pair>()
const familyOf = (alg: string): string => /^(RS|PS)/.test(alg) ? 'RSA' : alg.startsWith('ES') ? alg : alg.startsWith('HS') ? 'HMAC' : 'OKP'
const pairFor = (alg: string): Pair => {
  let pair = families.get(familyOf(alg))
  if (pair === undefined) families.set(familyOf(alg), pair = generatePair(alg))
  return pair
}
const keys = new Map<string, CryptoKey>()
for (const alg of ALGORITHMS) keys.set(alg, await selectKey(pairFor(alg).jwk, alg))
const keyFor = (alg: string): CryptoKey => keys.get(alg) as CryptoKey

/** A token signed as `alg` with the family's key; claims given as `undefined` are left out. */
const sign = (alg: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string =>
  rawToken(alg, pairFor(alg).privateKey, b64({ alg, typ: 'at+jwt', ...header }), b64({ ...CLAIMS, ...claims }))

const flip = (jwt: string): string => {
  const at = jwt.lastIndexOf('.') + 1
  return jwt.slice(0, at) + (jwt[at] === 'A' ? 'B' : 'A') + jwt.slice(at + 1)
}

function describe (err: unknown): string {
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature'
  if (err instanceof errors.JOSEError) {
    const { claim, reason } = err as Partial<errors.JWTClaimValidationFailed>
    return `jose: ${err.code} ${claim ?? '-'} ${reason ?? '-'}`
  }
  throw err
}

interface Outcome { label: string, payload?: unknown }

function outcome (run: () => JWTPayload | Error | undefined, decoded?: StrictlyDecoded): Outcome {
  let result: JWTPayload | Error | undefined
  try {
    result = run()
  } catch (err) {
    return { label: describe(err) }
  }
  if (result === undefined) return { label: 'declined' }
  if (result instanceof Error) return { label: describe(result) }
  if (decoded === undefined) return { label: 'accepted', payload: result }
  return { label: result === decoded.payload ? 'fast' : 'jose accepts', payload: result }
}

/**
 * Who answers `jwt`: 'fast' (the fast path returned decodeCompactJws's own payload object), 'jose
 * accepts' (jose's claim validation returned a payload of its own), 'jose: code claim reason' (jose's
 * claim validation threw), 'bad signature', or 'declined' (`undefined`). Without `decoded` the
 * answer must be the same, and whatever was decided, plain `jwtVerify` must decide alike.
 */
async function decide (t: Test, jwt: string, key: CryptoKey, opts: Options): Promise<string> {
  let decoded: StrictlyDecoded | undefined
  try {
    decoded = decodeCompactJws(jwt, 'bearer')
  } catch {}
  const shared = decoded === undefined ? undefined : outcome(() => checkJwtFast(jwt, key, opts, decoded), decoded)
  const own = outcome(() => checkJwtFast(jwt, key, opts))
  const accepted = (o: Outcome): Outcome => o.label === 'fast' || o.label === 'jose accepts' ? { ...o, label: 'accepted' } : o
  if (shared !== undefined) t.same(own, accepted(shared), 'the same answer without the shared decoding')
  if (own.label === 'declined') return 'declined'
  let plain: Outcome
  try {
    plain = { label: 'accepted', payload: (await jwtVerify(jwt, key, opts)).payload }
  } catch (err) {
    plain = { label: describe(err) }
  }
  t.same(own, plain, 'plain jwtVerify decides alike')
  return shared?.label ?? own.label
}

/** A segment of 0 mod 4 characters (whole groups): `make`'s JSON, padded as needed. */
function wholeGroups (make: (pad: string) => unknown): string {
  for (let pad = ''; ; pad += 'x') {
    const segment = b64(make(pad))
    if (segment.length % 4 === 0) return segment
  }
}

t.test('loading the module leaves Error.stackTraceLimit as it was', async (t) => {
  t.not(stackTraceLimit, 0)
  t.equal(limitAfterLoading, stackTraceLimit)
})

t.test('a plain token of every algorithm is decided by the fast path: the payload object itself', async (t) => {
  fixClock(t)
  for (const alg of ALGORITHMS) {
    const jwt = sign(alg)
    t.equal(await decide(t, jwt, keyFor(alg), options()), 'fast', alg)
    const decoded = decodeCompactJws(jwt, 'bearer')
    t.equal(verifyJwtFast(jwt, keyFor(alg), options(), decoded), decoded.payload, `${alg}: verifyJwtFast too`)
    t.strictSame(checkJwtFast(jwt, keyFor(alg), options()), CLAIMS, `${alg}: without the shared decoding, the payload read from the token`)
    t.strictSame(verifyJwtFast(jwt, keyFor(alg), options()), CLAIMS)
  }
})

t.test('a bad signature: one frozen JWSSignatureVerificationFailed, returned by checkJwtFast, thrown by verifyJwtFast', async (t) => {
  fixClock(t)
  const first = checkJwtFast(flip(sign('RS256')), keyFor('RS256'), options())
  t.ok(first instanceof errors.JWSSignatureVerificationFailed)
  const err = first as errors.JWSSignatureVerificationFailed
  t.ok(Object.isFrozen(err))
  t.equal(err.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
  t.equal(err.message, 'signature verification failed')
  t.notMatch(err.stack ?? '', /\n\s+at /, 'no stack frames captured')
  for (const alg of ALGORITHMS) {
    const jwt = flip(sign(alg))
    t.equal(await decide(t, jwt, keyFor(alg), options()), 'bad signature', alg)
    t.equal(checkJwtFast(jwt, keyFor(alg), options()), err, `${alg}: the same object`)
    t.equal(checkJwtFast(jwt, keyFor(alg), options(), decodeCompactJws(jwt, 'bearer')), err)
    let thrown: unknown
    try {
      verifyJwtFast(jwt, keyFor(alg), options())
    } catch (e) {
      thrown = e
    }
    t.equal(thrown, err, `${alg}: verifyJwtFast throws it`)
  }
  // Signed by another key of the same kind; claims that would fail: the signature is judged first.
  t.equal(checkJwtFast(rawToken('ES256', generatePair('ES256').privateKey, b64({ alg: 'ES256' }), b64(CLAIMS)), keyFor('ES256'), options()), err)
  t.equal(checkJwtFast(flip(sign('ES256', { exp: NOW - 600 })), keyFor('ES256'), options()), err)
})

t.test('an HMAC of the wrong length is a bad signature', async (t) => {
  fixClock(t)
  const jwt = sign('HS256')
  const at = jwt.lastIndexOf('.') + 1
  const mac = Buffer.from(jwt.slice(at), 'base64url')
  t.equal(mac.length, 32)
  for (const other of [mac.subarray(0, 31), Buffer.concat([mac, Buffer.from([0])]), mac.subarray(0, 16), Buffer.concat([mac, mac])]) {
    t.equal(await decide(t, jwt.slice(0, at) + other.toString('base64url'), keyFor('HS256'), options()), 'bad signature', `${other.length} bytes`)
  }
  t.equal(await decide(t, jwt.slice(0, at) + (sign('HS384').split('.')[2] as string), keyFor('HS256'), options()), 'bad signature', 'an HS384 MAC (48 bytes)')
})

t.test('headers the fast path leaves to jose', async (t) => {
  fixClock(t)
  const key = keyFor('RS256')
  const k = pairFor('RS256').privateKey
  const cases: Array<[string, string, Partial<FastVerifyOptions>]> = [
    ['crit', sign('RS256', {}, { crit: ['exp'], exp: 1 }), {}],
    ['crit b64:true (jose accepts it)', sign('RS256', {}, { crit: ['b64'], b64: true }), {}],
    ['crit null', sign('RS256', {}, { crit: null }), {}],
    ['alg not allowed', sign('RS256'), { algorithms: ['ES256', 'PS256'] }],
    ['alg unknown to the table, allowed', rawToken('RS256', k, b64({ alg: 'XS256' }), b64(CLAIMS)), { algorithms: ['XS256'] }],
    ['alg none, allowed', rawToken('RS256', k, b64({ alg: 'none' }), b64(CLAIMS)), { algorithms: ['none'] }],
    ['alg not a string', rawToken('RS256', k, b64({ alg: 256 }), b64(CLAIMS)), { algorithms: ['256'] }],
    ['no alg', rawToken('RS256', k, b64({ typ: 'JWT' }), b64(CLAIMS)), {}],
    ['header null', rawToken('RS256', k, b64('null'), b64(CLAIMS)), {}],
    ['header a string', rawToken('RS256', k, b64('"RS256"'), b64(CLAIMS)), {}],
    ['header an array', rawToken('RS256', k, b64('["RS256"]'), b64(CLAIMS)), {}],
    ['header not JSON', rawToken('RS256', k, b64('{"alg":"RS256"'), b64(CLAIMS)), {}],
    ['header not UTF-8', rawToken('RS256', k, Buffer.concat([Buffer.from('{"alg":"RS256","kid":"'), Buffer.from([0xff]), Buffer.from('"}')]).toString('base64url'), b64(CLAIMS)), {}]
  ]
  for (const [name, jwt, over] of cases) {
    t.equal(checkJwtFast(jwt, key, options(over)), undefined, name)
    t.equal(verifyJwtFast(jwt, key, options(over)), undefined, name)
  }
  t.equal(checkJwtFast(cases[0]?.[1] as string, key, options(), decodeCompactJws(cases[0]?.[1] as string, 'bearer')), undefined, 'crit, with the shared decoding')
  await t.resolves(jwtVerify(cases[1]?.[1] as string, key, options()), 'jose judges crit itself')
  await t.rejects(jwtVerify(cases[0]?.[1] as string, key, options()), errors.JOSENotSupported)
})

t.test('a segment of 1 mod 4 characters is left to jose (Buffer would drop the last character)', async (t) => {
  fixClock(t)
  // ES384: header and payload padded to whole groups, and a signature of 96 bytes = 128 characters.
  const key = keyFor('ES384')
  const k = pairFor('ES384').privateKey
  const h = wholeGroups((pad) => ({ alg: 'ES384', kid: `k${pad}` }))
  const p = wholeGroups((pad) => ({ ...CLAIMS, pad }))
  const whole = rawToken('ES384', k, h, p)
  const s = whole.split('.')[2] as string
  t.equal(s.length, 128)
  t.strictSame(checkJwtFast(whole, key, options()), JSON.parse(Buffer.from(p, 'base64url').toString()), 'whole groups: decided here')
  const dangling: Array<[string, string, number, string]> = [
    ['header', rawToken('ES384', k, `${h}A`, p), 0, h],
    ['payload', rawToken('ES384', k, h, `${p}A`), 1, p],
    ['signature', `${whole}A`, 2, s]
  ]
  for (const [name, jwt, at, signed] of dangling) {
    const segments = jwt.split('.')
    t.strictSame(segments.map((x) => x.length % 4 === 1), [0, 1, 2].map((i) => i === at), `${name}: the only segment of 1 mod 4`)
    t.strictSame(Buffer.from(segments[at] as string, 'base64url'), Buffer.from(signed, 'base64url'), `${name}: Buffer alone would read what was signed`)
    t.equal(checkJwtFast(jwt, key, options()), undefined, `${name}: declined`)
    await t.rejects(jwtVerify(jwt, key, options()), errors.JWSInvalid, `${name}: jose refuses it`)
  }
})

t.test('keys jose refuses: declined, before the signature is looked at', async (t) => {
  fixClock(t)
  const rsa = pairFor('RS256')
  const small = generatePair('RS256', 1024)
  const { publicKey: ecPublic, privateKey: ecPrivate } = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  // A private key whose usages array was made to say 'verify': only its type tells jose's rule apart.
  ;(ecPrivate.usages as string[]).push('verify')
  const noVerify = await webcrypto.subtle.importKey('jwk', rsa.jwk as webcrypto.JsonWebKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, []) as CryptoKey
  const ecSigner = KeyObject.from(ecPrivate)
  const ecToken = rawToken('ES256', ecSigner, b64({ alg: 'ES256' }), b64(CLAIMS))
  t.strictSame(checkJwtFast(ecToken, ecPublic as CryptoKey, options()), CLAIMS, 'its public key: decided here')
  const refused: Array<[string, string, CryptoKey]> = [
    ['RS256 token, RSA-PSS key (name)', 'RS256', await selectKey(rsa.jwk, 'PS256')],
    ['PS256 token, RSASSA key (name)', 'PS256', keyFor('RS256')],
    ['RS384 token, RS256 key (hash)', 'RS384', keyFor('RS256')],
    ['PS512 token, PS256 key (hash)', 'PS512', keyFor('PS256')],
    ['ES384 token, P-256 key (curve)', 'ES384', keyFor('ES256')],
    ['ES256 token, P-521 key (curve)', 'ES256', keyFor('ES512')],
    ['ES256 token, RSA key (name)', 'ES256', keyFor('RS256')],
    ['EdDSA token, EC key (name)', 'EdDSA', keyFor('ES256')],
    ['Ed25519 token, RSA key (name)', 'Ed25519', keyFor('RS256')],
    ['HS256 token, HS384 key (hash)', 'HS256', keyFor('HS384')],
    ['HS512 token, HS256 key (hash)', 'HS512', keyFor('HS256')],
    ['HS256 token, RSA public key (type and name)', 'HS256', keyFor('RS256')],
    ['RS256 token, HMAC key (type and name)', 'RS256', keyFor('HS256')],
    ['RS256 with a 1024-bit key', 'RS256', await selectKey(small.jwk, 'RS256')],
    ['PS256 with a 1024-bit key', 'PS256', await selectKey(small.jwk, 'PS256')],
    ['key without the verify usage', 'RS256', noVerify],
    ['a private key (type)', 'ES256', ecPrivate as CryptoKey]
  ]
  for (const [name, alg, key] of refused) {
    const signer = name.includes('1024') ? small.privateKey : name.includes('private') ? ecSigner : pairFor(alg).privateKey
    const jwt = rawToken(alg, signer, b64({ alg }), b64(CLAIMS))
    t.equal(checkJwtFast(jwt, key, options()), undefined, name)
    t.equal(checkJwtFast(jwt, key, options()), undefined, `${name}, again (remembered)`)
    await t.rejects(jwtVerify(jwt, key, options()), `${name}: jose refuses the key`)
  }
})

t.test('only what jose checks of a key is compared: a hash or curve the algorithm has no use for is ignored', async (t) => {
  fixClock(t)
  // jose's checkCryptoKey compares algorithm.hash only for algorithms with a hash, namedCurve only
  // for ECDSA. Node hands out the CryptoKey's algorithm object itself: give fresh keys a stray member.
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['ES256', 'ES256', { hash: { name: 'SHA-384' } }],
    ['EdDSA', 'EdDSA', { hash: { name: 'SHA-512' }, namedCurve: 'P-256' }],
    ['RS256', 'RS256', { namedCurve: 'P-256' }],
    ['HS256', 'HS256', { namedCurve: 'P-384' }]
  ]
  for (const [alg, keyAlg, stray] of cases) {
    const key = await selectKey(pairFor(keyAlg).jwk, keyAlg)
    Object.assign(key.algorithm, stray)
    t.equal(await decide(t, sign(alg), key, options()), 'fast', `${alg} key with ${JSON.stringify(stray)}`)
  }
})

t.test('a key is made ready once per algorithm, and keeps its verdicts', async (t) => {
  fixClock(t)
  // Keys of their own: the memo is per CryptoKey, and the other tests' keys are prepared already.
  const rs = await selectKey(pairFor('RS256').jwk, 'RS256')
  const ed = await selectKey(pairFor('EdDSA').jwk, 'EdDSA')
  const from = t.capture(KeyObject, 'from', KeyObject.from)
  t.equal(await decide(t, sign('RS256'), rs, options()), 'fast')
  t.equal(from().length, 1, 'converted to a KeyObject')
  t.equal(await decide(t, sign('RS256', { sub: 'second' }), rs, options()), 'fast')
  t.equal(await decide(t, flip(sign('RS256')), rs, options()), 'bad signature')
  t.equal(from().length, 0, 'not again')
  t.equal(checkJwtFast(sign('RS384'), rs, options()), undefined, 'another algorithm on the same key: refused')
  t.equal(checkJwtFast(sign('RS384'), rs, options()), undefined)
  t.equal(await decide(t, sign('RS256'), rs, options()), 'fast', 'and the first still decided here')
  t.equal(from().length, 0)
  // One Ed25519 key serves both of its algorithm names, each prepared once.
  t.equal(await decide(t, sign('EdDSA'), ed, options()), 'fast')
  t.equal(await decide(t, sign('Ed25519'), ed, options()), 'fast')
  t.equal(from().length, 2)
  t.equal(await decide(t, sign('Ed25519'), ed, options()), 'fast')
  t.equal(await decide(t, sign('EdDSA'), ed, options()), 'fast')
  t.equal(await decide(t, flip(sign('EdDSA')), ed, options()), 'bad signature')
  t.equal(from().length, 0)
})

t.test('required claims: present, decided here; missing, jose names it', async (t) => {
  fixClock(t)
  const key = keyFor('ES256')
  t.equal(await decide(t, sign('ES256'), key, options()), 'fast')
  for (const claim of ['exp', 'iat', 'sub']) {
    t.equal(await decide(t, sign('ES256', { [claim]: undefined }), key, options()), `jose: ERR_JWT_CLAIM_VALIDATION_FAILED ${claim} missing`, claim)
  }
  t.equal(await decide(t, sign('ES256', { exp: undefined, iat: undefined, sub: undefined }), key, options({ requiredClaims: [] })), 'fast', 'none required')
  t.equal(await decide(t, sign('ES256', { jti: null }), key, options({ requiredClaims: ['jti'] })), 'fast', 'present, even null')
  t.equal(await decide(t, sign('ES256'), key, options({ requiredClaims: ['jti'] })), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED jti missing')
})

t.test('issuer', async (t) => {
  fixClock(t)
  const key = keyFor('ES256')
  t.equal(await decide(t, sign('ES256'), key, options()), 'fast', 'ours')
  t.equal(await decide(t, sign('ES256', { iss: 'https://evil.example.com/' }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED iss check_failed')
  t.equal(await decide(t, sign('ES256', { iss: ISSUER.slice(0, -1) }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED iss check_failed')
  t.equal(await decide(t, sign('ES256', { iss: 1 }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED iss check_failed', 'not a string')
  t.equal(await decide(t, sign('ES256', { iss: [ISSUER] }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED iss check_failed', 'an array')
  t.equal(await decide(t, sign('ES256', { iss: undefined }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED iss missing', 'absent')
  // No issuer required: whatever iss says, or none.
  for (const iss of ['https://evil.example.com/', 1, undefined, ISSUER]) {
    t.equal(await decide(t, sign('ES256', { iss }), key, options({ issuer: undefined })), 'fast', `no issuer option, iss ${String(iss)}`)
  }
})

t.test('audience', async (t) => {
  fixClock(t)
  const key = keyFor('ES256')
  const other = 'https://other.example/'
  const cases: Array<[unknown, string[] | undefined, string]> = [
    [AUDIENCE, [AUDIENCE], 'fast'],
    [AUDIENCE, [other, AUDIENCE], 'fast'],
    [other, [AUDIENCE], 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED aud check_failed'],
    [[AUDIENCE], [AUDIENCE], 'fast'],
    [[other, AUDIENCE], [AUDIENCE], 'fast'],
    [[AUDIENCE], [other, AUDIENCE], 'fast'],
    [[1, null, AUDIENCE], [AUDIENCE], 'fast'],
    [[other], [AUDIENCE], 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED aud check_failed'],
    [[other], [AUDIENCE, 'https://x.example/'], 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED aud check_failed'],
    [[], [AUDIENCE], 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED aud check_failed'],
    [AUDIENCE, [], 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED aud check_failed'],
    [1, [AUDIENCE], 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED aud check_failed'],
    [{ [AUDIENCE]: true }, [AUDIENCE], 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED aud check_failed'],
    [undefined, [AUDIENCE], 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED aud missing'],
    [other, undefined, 'fast'],
    [[other], undefined, 'fast'],
    [undefined, undefined, 'fast']
  ]
  for (const [aud, audience, expected] of cases) {
    t.equal(await decide(t, sign('ES256', { aud }), key, options({ audience })), expected, `aud ${JSON.stringify(aud)}, audience ${JSON.stringify(audience)}`)
  }
})

t.test('iat: any number here (its future is checked later), anything else jose refuses', async (t) => {
  fixClock(t)
  const key = keyFor('ES256')
  t.equal(await decide(t, sign('ES256', { iat: NOW + 600 }), key, options()), 'fast')
  t.equal(await decide(t, sign('ES256', { iat: 0 }), key, options()), 'fast')
  t.equal(await decide(t, sign('ES256', { iat: 'now' }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED iat invalid')
  t.equal(await decide(t, sign('ES256', { iat: null }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED iat invalid')
  t.equal(await decide(t, sign('ES256', { iat: undefined }), key, options({ requiredClaims: [] })), 'fast', 'absent, not required')
})

t.test('nbf at the clock tolerance: up to now + tolerance here, beyond that jose refuses', async (t) => {
  fixClock(t)
  const key = keyFor('ES256')
  t.equal(await decide(t, sign('ES256', { nbf: NOW + 5 }), key, options()), 'fast', 'now + 5, tolerance 5')
  t.equal(await decide(t, sign('ES256', { nbf: NOW + 6 }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED nbf check_failed', 'now + 6, tolerance 5')
  t.equal(await decide(t, sign('ES256', { nbf: NOW - 600 }), key, options()), 'fast')
  t.equal(await decide(t, sign('ES256', { nbf: NOW + 30 }), key, options({ clockTolerance: 30 })), 'fast', 'now + 30, tolerance 30')
  t.equal(await decide(t, sign('ES256', { nbf: NOW + 31 }), key, options({ clockTolerance: 30 })), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED nbf check_failed')
  t.equal(await decide(t, sign('ES256', { nbf: NOW }), key, options({ clockTolerance: undefined })), 'fast', 'now, no tolerance')
  t.equal(await decide(t, sign('ES256', { nbf: NOW + 1 }), key, options({ clockTolerance: undefined })), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED nbf check_failed', 'now + 1, no tolerance')
  t.equal(await decide(t, sign('ES256', { nbf: String(NOW - 600) }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED nbf invalid')
  t.equal(await decide(t, sign('ES256', { nbf: null }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED nbf invalid')
})

t.test('exp at the clock tolerance: after now - tolerance here, at it jose refuses (expired)', async (t) => {
  fixClock(t)
  const key = keyFor('ES256')
  t.equal(await decide(t, sign('ES256', { exp: NOW - 4 }), key, options()), 'fast', 'now - 4, tolerance 5')
  t.equal(await decide(t, sign('ES256', { exp: NOW - 5 }), key, options()), 'jose: ERR_JWT_EXPIRED exp check_failed', 'now - 5, tolerance 5')
  t.equal(await decide(t, sign('ES256', { exp: NOW - 29 }), key, options({ clockTolerance: 30 })), 'fast')
  t.equal(await decide(t, sign('ES256', { exp: NOW - 30 }), key, options({ clockTolerance: 30 })), 'jose: ERR_JWT_EXPIRED exp check_failed')
  t.equal(await decide(t, sign('ES256', { exp: NOW + 1 }), key, options({ clockTolerance: undefined })), 'fast', 'now + 1, no tolerance')
  t.equal(await decide(t, sign('ES256', { exp: NOW }), key, options({ clockTolerance: undefined })), 'jose: ERR_JWT_EXPIRED exp check_failed', 'now, no tolerance')
  t.equal(await decide(t, sign('ES256', { exp: String(NOW + 600) }), key, options()), 'jose: ERR_JWT_CLAIM_VALIDATION_FAILED exp invalid')
  t.equal(await decide(t, sign('ES256', { exp: undefined }), key, options({ requiredClaims: [] })), 'fast', 'absent, not required')
})

t.test('a payload that is not a JSON object: jose refuses it, whatever the options', async (t) => {
  fixClock(t)
  const key = keyFor('ES256')
  const k = pairFor('ES256').privateKey
  const bare = options({ issuer: undefined, audience: undefined, requiredClaims: [], clockTolerance: undefined })
  for (const payload of ['"claims"', '42', 'null', 'true', '[1]', '{"sub":', '']) {
    const jwt = rawToken('ES256', k, b64({ alg: 'ES256' }), payload === '' ? Buffer.from([0xc3, 0x28]).toString('base64url') : b64(payload))
    t.equal(await decide(t, jwt, key, bare), 'jose: ERR_JWT_INVALID - -', payload)
  }
  t.equal(await decide(t, rawToken('ES256', k, b64({ alg: 'ES256' }), b64('{}')), key, bare), 'fast', 'an empty object, nothing required')
})
