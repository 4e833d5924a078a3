/**
 * SPEC §3 step 3: the token must be a compact JWS with exactly one accepted spelling. JWE and
 * opaque tokens get a description that says what went wrong; nothing here reaches the network.
 */
import t from 'tap'
import { harness } from '../helpers/app.js'
import { expectInvalidToken } from '../helpers/expect.js'
import { b64url, segment } from '../helpers/jws.js'
import type { InvalidTokenError } from '../../lib/errors.js'
import { decodeCompactJws } from '../../lib/jwt/compact.js'

const NOT_A_JWT = 'not a JWT access token (opaque or encrypted); did the client request an audience?'
const NOT_COMPACT = 'access token is not a well-formed compact JWS'
const BAD_HEADER = 'access token header is not valid JSON with an alg'
const BAD_PAYLOAD = 'access token payload is not a JSON object'

/** The segment with characters appended until its length is 1 mod 4 (never valid base64url). */
function oneModFour (segment: string): string {
  let out = `${segment}A`
  while (out.length % 4 !== 1) out += 'A'
  return out
}

t.test('structure attacks: 401 invalid_token, no fetch', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token()
  const [header, payload, signature] = token.split('.') as [string, string, string]
  t.equal(signature.length % 4, 2, 'an RS256 signature is 342 characters, 2 mod 4')

  const cases: Array<[string, string, string]> = [
    ['opaque token (no audience requested)', 'Zm9vYmFyYmF6cXV4', NOT_A_JWT],
    ['two segments', `${header}.${payload}`, NOT_A_JWT],
    ['JWE (five segments)', `${segment({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })}.${b64url('k')}.${b64url('iv')}.${b64url('ct')}.${b64url('tag')}`, NOT_A_JWT],
    ['four segments (a trailing dot)', `${token}.`, NOT_A_JWT],
    ['three segments with "enc" in the header', `${segment({ alg: 'dir', enc: 'A256GCM' })}.${payload}.${signature}`, NOT_A_JWT],
    ['empty signature', `${header}.${payload}.`, NOT_COMPACT],
    ['empty header', `.${payload}.${signature}`, NOT_COMPACT],
    ['padding "==" appended to the signature (jose 6 accepts it)', `${token}==`, NOT_COMPACT],
    ['base64 "+" and "/" instead of base64url', `${header}.${payload}.${signature.slice(0, -2)}+/`, NOT_COMPACT],
    ['signature of length 1 mod 4 (garbage appended)', `${token}abc`, NOT_COMPACT],
    ['garbage appended leaving unused bits set', `${token}x`, NOT_COMPACT],
    ['header of length 1 mod 4', `${oneModFour(header)}.${payload}.${signature}`, BAD_HEADER],
    ['payload of length 1 mod 4', `${header}.${oneModFour(payload)}.${signature}`, BAD_PAYLOAD],
    ['header not JSON', `${b64url('not json')}.${payload}.${signature}`, BAD_HEADER],
    ['header a JSON array', `${segment(['RS256'])}.${payload}.${signature}`, BAD_HEADER],
    ['header without "alg"', `${segment({ typ: 'JWT', kid: h.issuer.currentKey.kid })}.${payload}.${signature}`, BAD_HEADER],
    ['header "alg" not a string', `${segment({ alg: 256, kid: h.issuer.currentKey.kid })}.${payload}.${signature}`, BAD_HEADER],
    ['payload not JSON', `${header}.${b64url('{"sub":')}.${signature}`, BAD_PAYLOAD],
    ['payload a JSON string', `${header}.${segment('a string')}.${signature}`, BAD_PAYLOAD],
    ['payload null', `${header}.${segment(null)}.${signature}`, BAD_PAYLOAD],
    // JSON inside invalid UTF-8 (a lone continuation byte in a string): jose reads strictly, so do we.
    ['header not UTF-8', `${b64url(Buffer.concat([Buffer.from('{"alg":"RS256","x":"'), Buffer.from([0x80]), Buffer.from('"}')]))}.${payload}.${signature}`, BAD_HEADER],
    ['payload not UTF-8', `${header}.${b64url(Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]))}.${signature}`, BAD_PAYLOAD]
  ]
  for (const [name, value, description] of cases) {
    await t.test(name, async (t) => {
      const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${value}` } })
      expectInvalidToken(t, res, description)
    })
  }
  t.strictSame(h.issuer.requests, { discovery: 0, jwks: 0 }, 'structure is checked before any fetch')

  // Positive control: the untouched token passes.
  const ok = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
  t.equal(ok.statusCode, 200)
})

t.test('trailing garbage that keeps the grammar still fails the signature', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token()
  for (const suffix of ['AA', 'AAAA', 'xw']) {
    const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${token}${suffix}` } })
    expectInvalidToken(t, res, 'signature verification failed')
  }
})

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The token with the last character of its signature changed by `xor` (a 6-bit value). */
function lastCharXor (token: string, xor: number): string {
  const last = ALPHABET.indexOf(token.slice(-1))
  return token.slice(0, -1) + (ALPHABET[last ^ xor] as string)
}

t.test('a signature has one spelling: set unused bits in its last character are refused', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token()
  // 342 characters carry 2052 bits for 2048: the low 4 bits of the last character are unused,
  // so this spelling decodes to the very same signature bytes.
  const sameBytes = lastCharXor(token, 0b0001)
  t.not(sameBytes, token)
  t.equal(Buffer.from(sameBytes.split('.')[2] as string, 'base64url').compare(Buffer.from(token.split('.')[2] as string, 'base64url')), 0, 'same signature bytes')
  const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${sameBytes}` } })
  expectInvalidToken(t, res, NOT_COMPACT)

  // Changing a bit that counts is a wrong signature.
  const otherBytes = lastCharXor(token, 0b100000)
  const res2 = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${otherBytes}` } })
  expectInvalidToken(t, res2, 'signature verification failed')
})

t.test('a payload swapped under a valid signature fails', async (t) => {
  const h = await harness(t)
  const token = await h.issuer.token({ scope: 'read:messages' })
  const other = await h.issuer.token({ scope: 'read:messages admin' })
  const [header, , signature] = token.split('.')
  const forged = `${header as string}.${other.split('.')[1] as string}.${signature as string}`
  const res = await h.app.inject({ url: '/private', headers: { authorization: `Bearer ${forged}` } })
  expectInvalidToken(t, res, 'signature verification failed')
})

t.test('a signature is accepted in exactly its canonical spelling (checked without decoding it)', async (t) => {
  // decodeCompactJws reads the unused bits off the last character; Buffer's decode + re-encode
  // round trip is the reference: a spelling is canonical exactly when it survives it.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const header = segment({ alg: 'RS256' })
  const payload = segment({ iss: 'https://issuer.example/' })
  let accepted = 0
  let refused = 0
  for (let length = 1; length <= 8; length++) {
    for (const last of alphabet) {
      const signature = 'Q'.repeat(length - 1) + last
      const reference = length % 4 !== 1 && Buffer.from(signature, 'base64url').toString('base64url') === signature
      let ours: boolean
      try {
        decodeCompactJws(`${header}.${payload}.${signature}`, 'bearer')
        ours = true
      } catch (err) {
        t.equal((err as InvalidTokenError).reason, 'malformed')
        ours = false
      }
      if (ours !== reference) t.fail(`length ${length}, last character ${last}: ours ${ours}, Buffer ${reference}`)
      if (ours) accepted++
      else refused++
    }
  }
  // Per group of 4: 4 canonical endings of 2 characters, 16 of 3, all 64 of 4, none of 1.
  t.equal(accepted, 2 * (4 + 16 + 64))
  t.equal(refused, 8 * 64 - accepted)
})
