/**
 * lib/dpop/proof.ts on its own: `decodeProof` (grammar and header rules, for every algorithm and
 * every private JWK member) and `checkProofClaims` (each claim against fixed expectations, so the
 * `iat` window is checked to the second). test/dpop/proof.test.ts proves the replies over HTTP;
 * test/perf/dpop-differential.test.ts the signature against jose.
 */
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { InvalidDpopProofError } from '../../lib/errors.js'
import { checkProofClaims, decodeProof, MAX_JTI_LENGTH, MAX_PROOF_LENGTH, type ProofExpectations } from '../../lib/dpop/proof.js'
import { b64url, segment } from '../helpers/jws.js'
import { refusal } from '../helpers/refusal.js'

/** The reason and description of an `invalid_dpop_proof` refusal. */
function refused (fn: () => unknown): string {
  const err = refusal(fn)
  if (!(err instanceof InvalidDpopProofError)) throw new Error(`not an InvalidDpopProofError: ${err.constructor.name}`)
  return `${err.reason}: ${err.error_description}`
}

function publicJwk (type: 'ec' | 'rsa' | 'ed25519', curve?: string): Record<string, unknown> {
  const pair = type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: curve as string })
    : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')
  return pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>
}

const KEYS = {
  p256: publicJwk('ec', 'P-256'),
  p384: publicJwk('ec', 'P-384'),
  p521: publicJwk('ec', 'P-521'),
  rsa: publicJwk('rsa'),
  ed25519: publicJwk('ed25519')
}
const JWK_OF: Record<string, Record<string, unknown>> = {
  RS256: KEYS.rsa,
  RS384: KEYS.rsa,
  RS512: KEYS.rsa,
  PS256: KEYS.rsa,
  PS384: KEYS.rsa,
  PS512: KEYS.rsa,
  ES256: KEYS.p256,
  ES384: KEYS.p384,
  ES512: KEYS.p521,
  EdDSA: KEYS.ed25519,
  Ed25519: KEYS.ed25519
}
const ALL = Object.keys(JWK_OF)
const PAYLOAD = { jti: 'j', htm: 'GET', htu: 'https://api.example.com/r', iat: 1, ath: 'x' }
const SIG = 'c2ln'

function compact (header: Record<string, unknown>, payload: unknown = PAYLOAD, signature = SIG): string {
  return `${segment(header)}.${segment(payload)}.${signature}`
}

const MALFORMED = 'proof_malformed: DPoP proof is not a compact JWS with JSON header and payload'
const MISMATCH = 'proof_jwk_mismatch: DPoP proof jwk does not match the proof algorithm'

t.test('every algorithm decodes with a public key of its type, and with none of the others', async (t) => {
  for (const alg of ALL) {
    const jwk = JWK_OF[alg] as Record<string, unknown>
    const value = compact({ typ: 'dpop+jwt', alg, jwk })
    t.strictSame(decodeProof(value, ALL), { compact: value, alg, jwk, payload: PAYLOAD, strict: { header: { typ: 'dpop+jwt', alg, jwk }, payload: PAYLOAD } }, alg)
    t.equal(decodeProof(compact({ typ: 'dpop+jwt', alg, jwk: { ...jwk, alg } }), ALL).alg, alg, `${alg}: jwk alg equal to the proof's`)
    for (const other of Object.values(KEYS).filter((k) => k.kty !== jwk.kty || k.crv !== jwk.crv)) {
      t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg, jwk: other }), ALL)), MISMATCH, `${alg} with ${String(other.kty)} ${String(other.crv)}`)
    }
    t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg, jwk: { ...jwk, kty: 'oct' } }), ALL)), MISMATCH, `${alg}: kty alone differs`)
    t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg, jwk: { ...jwk, crv: 'P-256K' } }), ALL)), MISMATCH, `${alg}: crv alone differs (or is added)`)
    t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg, jwk: { ...jwk, alg: 'none' } }), ALL)), MISMATCH, `${alg}: jwk alg other than the proof's`)
  }
})

t.test('the algorithm must be a string in the allowlist', async (t) => {
  const jwk = KEYS.p256
  const notAllowed = 'proof_alg_not_allowed: DPoP proof algorithm not allowed'
  t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg: 'ES256', jwk }), ['RS256'])), notAllowed)
  t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', jwk }), ALL)), notAllowed, 'no alg')
  t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg: ['ES256'], jwk }), ALL)), notAllowed, 'alg an array')
})

t.test('every private or symmetric JWK member is refused', async (t) => {
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']) {
    const jwk = { ...KEYS.rsa, [member]: 'AQAB' }
    t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg: 'RS256', jwk }), ALL)), 'proof_jwk_private: DPoP proof jwk contains private key material', member)
  }
  t.equal(decodeProof(compact({ typ: 'dpop+jwt', alg: 'RS256', jwk: { ...KEYS.rsa, kid: 'k', use: 'sig' } }), ALL).alg, 'RS256', 'public members are fine')
})

t.test('header rules, in order', async (t) => {
  const jwk = KEYS.p256
  t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg: 'ES256', jwk, crit: [] }), ALL)), 'proof_crit_unsupported: DPoP proof crit header not supported', 'even an empty crit')
  t.equal(refused(() => decodeProof(compact({ typ: 'JWT', alg: 'ES256', jwk }), ALL)), 'proof_typ_invalid: DPoP proof typ must be dpop+jwt')
  for (const bad of [null, ['k'], 'k']) {
    t.equal(refused(() => decodeProof(compact({ typ: 'dpop+jwt', alg: 'ES256', jwk: bad }), ALL)), 'proof_jwk_missing: DPoP proof jwk header missing or not a JSON object', JSON.stringify(bad))
  }
})

t.test('compact JWS grammar', async (t) => {
  const header = segment({ typ: 'dpop+jwt', alg: 'ES256', jwk: KEYS.p256 })
  const payload = segment(PAYLOAD)
  // Nine bytes of JSON: twelve base64url characters, so one more makes a length of 1 mod 4, which
  // Buffer would still decode (ignoring the extra character).
  const nine = segment({ a: 123 })
  t.equal(nine.length, 12)
  t.strictSame(decodeProof(`${header}.${nine}.${SIG}`, ALL).payload, { a: 123 }, 'the nine-byte payload itself decodes')
  t.equal(refused(() => decodeProof(`${header}.${nine}A.${SIG}`, ALL)), MALFORMED, 'payload of 1 mod 4 characters')
  t.equal(decodeProof(`${header}.${payload}.${SIG}A`, ALL).alg, 'ES256', 'a signature of 1 mod 4 characters is left to the signature check')
  const malformed: Array<[string, string]> = [
    ['payload padded', `${header}.${payload}=.${SIG}`],
    ['payload with a leading character outside base64url', `${header}.*${payload}.${SIG}`],
    ['header padded', `${header}=.${payload}.${SIG}`],
    ['header with a leading space', ` ${header}.${payload}.${SIG}`],
    ['signature padded', `${header}.${payload}.${SIG}=`],
    ['signature with a leading character outside base64url', `${header}.${payload}.+${SIG}`],
    ['four segments', `${header}.${payload}.${SIG}.${SIG}`],
    ['two segments', `${header}.${payload}`],
    ['empty header', `.${payload}.${SIG}`],
    ['payload not JSON', `${header}.${b64url('{"a"')}.${SIG}`],
    ['payload null', `${header}.${segment(null)}.${SIG}`],
    ['header an array', `${segment([1])}.${payload}.${SIG}`],
    ['header a string', `${segment('h')}.${payload}.${SIG}`]
  ]
  for (const [name, value] of malformed) {
    t.equal(refused(() => decodeProof(value, ALL)), MALFORMED, name)
  }
})

t.test('a refusal of the proof\'s own shape has no cause (only jose\'s verdicts carry one)', async (t) => {
  const err = refusal(() => decodeProof('a.b', ALL))
  t.equal(err.reason, 'proof_malformed')
  t.notOk('cause' in err, 'no cause member at all')
  const claim = refusal(() => checkProofClaims({}, { method: 'GET', url: 'https://api.example.com/r', ath: 'x', now: 0, iatOffset: 1, iatLeeway: 1 }))
  t.notOk('cause' in claim)
})

t.test('size cap: 8192 characters are decoded, 8193 are not', async (t) => {
  t.equal(MAX_PROOF_LENGTH, 8192)
  const header = segment({ typ: 'dpop+jwt', alg: 'ES256', jwk: KEYS.p256 })
  const payload = segment(PAYLOAD)
  const fill = (length: number): string => {
    const base = `${header}.${payload}.`
    return base + 'A'.repeat(length - base.length)
  }
  t.equal(decodeProof(fill(8192), ALL).compact.length, 8192, 'exactly the cap')
  t.equal(refused(() => decodeProof(fill(8193), ALL)), 'proof_too_large: DPoP proof too large')
})

t.test('strict: the reading is reused only when header and payload are both strict UTF-8', async (t) => {
  const headerValue = { typ: 'dpop+jwt', alg: 'ES256', jwk: KEYS.p256 }
  const header = segment(headerValue)
  const notUtf8 = (json: Record<string, unknown>): string => {
    const text = JSON.stringify({ ...json, x: '#' })
    const bytes = Buffer.from(text)
    bytes[bytes.indexOf('#'.charCodeAt(0))] = 0xff
    return b64url(bytes)
  }
  const good = decodeProof(`${header}.${segment(PAYLOAD)}.${SIG}`, ALL)
  t.strictSame(good.strict, { header: headerValue, payload: PAYLOAD })
  const badPayload = decodeProof(`${header}.${notUtf8(PAYLOAD)}.${SIG}`, ALL)
  t.equal(badPayload.payload.jti, 'j', 'decoded all the same (jose will refuse it)')
  t.equal(badPayload.strict, undefined, 'payload not UTF-8')
  const badHeader = decodeProof(`${notUtf8(headerValue)}.${segment(PAYLOAD)}.${SIG}`, ALL)
  t.equal(badHeader.alg, 'ES256')
  t.equal(badHeader.strict, undefined, 'header not UTF-8')
  t.equal(decodeProof(`${notUtf8(headerValue)}.${segment(PAYLOAD)}.${SIG}`, ALL).strict, undefined, 'header not UTF-8, remembered')
  t.strictSame(decodeProof(`${header}.${segment(PAYLOAD)}.${SIG}`, ALL).strict, { header: headerValue, payload: PAYLOAD }, 'header remembered')
})

const NOW = 1_800_000_000
const EXPECTED: ProofExpectations = { method: 'GET', url: 'https://api.example.com/r', ath: 'x', now: NOW, iatOffset: 300, iatLeeway: 30 }
const claims = (extra: Record<string, unknown>): Record<string, unknown> => ({ ...PAYLOAD, iat: NOW, ...extra })

t.test('claims: a proof matching the request passes', async (t) => {
  t.equal(checkProofClaims(claims({}), EXPECTED), undefined)
  t.equal(checkProofClaims(claims({ htu: 'HTTPS://API.example.com:443/a/../%72?q#f' }), EXPECTED), undefined, 'htu compared in normal form')
  t.equal(checkProofClaims(claims({ jti: 'j'.repeat(MAX_JTI_LENGTH) }), EXPECTED), undefined, 'jti of the maximum length')
})

t.test('claims: iat window, to the second', async (t) => {
  t.equal(checkProofClaims(claims({ iat: NOW - 300 }), EXPECTED), undefined, 'exactly iatOffset old')
  t.equal(checkProofClaims(claims({ iat: NOW + 30 }), EXPECTED), undefined, 'exactly iatLeeway ahead')
  t.equal(refused(() => checkProofClaims(claims({ iat: NOW - 300.5 }), EXPECTED)), 'proof_iat_too_old: DPoP proof iat too old')
  t.equal(refused(() => checkProofClaims(claims({ iat: NOW + 30.5 }), EXPECTED)), 'proof_iat_in_future: DPoP proof iat in the future')
  for (const iat of [Infinity, -Infinity, NaN, '1', null]) {
    t.equal(refused(() => checkProofClaims(claims({ iat }), EXPECTED)), 'proof_iat_invalid: DPoP proof iat missing or not a number', String(iat))
  }
  const huge = `${segment({ typ: 'dpop+jwt', alg: 'ES256', jwk: KEYS.p256 })}.${b64url(JSON.stringify(claims({})).replace(String(NOW), '1e400'))}.${SIG}`
  t.equal(refused(() => checkProofClaims(decodeProof(huge, ALL).payload, EXPECTED)), 'proof_iat_invalid: DPoP proof iat missing or not a number', 'iat 1e400 in the JSON (Infinity)')
})

t.test('claims: each refusal', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['jti missing', { jti: undefined }, 'proof_jti_invalid: DPoP proof jti must be a non-empty string'],
    ['jti empty', { jti: '' }, 'proof_jti_invalid: DPoP proof jti must be a non-empty string'],
    ['jti a number', { jti: 1 }, 'proof_jti_invalid: DPoP proof jti must be a non-empty string'],
    ['jti too long', { jti: 'j'.repeat(MAX_JTI_LENGTH + 1) }, 'proof_jti_too_long: DPoP proof jti too long'],
    ['htm missing', { htm: undefined }, 'proof_htm_invalid: DPoP proof htm missing'],
    ['htm an array', { htm: ['GET'] }, 'proof_htm_invalid: DPoP proof htm missing'],
    ['htm in lower case', { htm: 'get' }, 'proof_htm_mismatch: DPoP proof htm does not match the request method'],
    ['htu missing', { htu: undefined }, 'proof_htu_invalid: DPoP proof htu missing'],
    ['htu an array', { htu: ['https://api.example.com/r'] }, 'proof_htu_invalid: DPoP proof htu missing'],
    ['htu relative', { htu: '/r' }, 'proof_htu_invalid: DPoP proof htu is not an absolute http(s) URL'],
    ['htu another path', { htu: 'https://api.example.com/R' }, 'proof_htu_mismatch: DPoP proof htu does not match the request URL'],
    ['ath missing', { ath: undefined }, 'proof_ath_missing: DPoP proof ath missing'],
    ['ath a number', { ath: 1 }, 'proof_ath_missing: DPoP proof ath missing'],
    ['ath of another token', { ath: 'y' }, 'proof_ath_mismatch: DPoP proof ath does not match the access token']
  ]
  for (const [name, extra, expected] of cases) {
    t.equal(refused(() => checkProofClaims(claims(extra), EXPECTED)), expected, name)
  }
})
