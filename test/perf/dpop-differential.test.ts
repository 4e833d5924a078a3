/**
 * Differential proof of the DPoP proof fast path (lib/dpop/proof-key.ts + lib/jwt/fast-verify.ts
 * inside `verifyProofSignature`): every proof below, once through `decodeProof` as in the
 * pipeline, is verified by `verifyProofSignature` and by plain jose (`jwtVerify` with
 * `EmbeddedJWK`, the call it replaces), and the outcomes must be identical: accepted by both, or
 * refused by both with the same jose error class and the same reason.
 */
import { createHash, generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { EmbeddedJWK, errors, jwtVerify, type JWK } from 'jose'
import { InvalidDpopProofError } from '../../lib/errors.js'
import { decodeProof, verifyProofSignature } from '../../lib/dpop/proof.js'
import { jwkThumbprint, proofKey, proofKeyId } from '../../lib/dpop/proof-key.js'
import { b64, generatePair, rawToken, type Pair } from './kit.js'

const ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'] as const

/** The call `verifyProofSignature` replaces, with the same error mapping. */
async function reference (compact: string, alg: string): Promise<string> {
  try {
    await jwtVerify(compact, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [alg] })
    return 'ok'
  } catch (err) {
    const kind = err instanceof errors.JWSSignatureVerificationFailed ? 'proof_signature_invalid' : err instanceof errors.JWTExpired ? 'proof_expired' : 'proof_invalid'
    return `${kind} ${(err as Error).constructor.name}`
  }
}

async function ours (compact: string, alg: string): Promise<string> {
  try {
    await verifyProofSignature(decodeProof(compact, [alg]))
    return 'ok'
  } catch (err) {
    t.type(err, InvalidDpopProofError)
    return `${(err as InvalidDpopProofError).reason} ${((err as Error).cause as Error).constructor.name}`
  }
}

function jwkOf (pair: Pair, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { kty, crv, x, y, n, e } = pair.jwk as Record<string, unknown>
  return { ...Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)), ...extra }
}

function proofOf (alg: string, signer: Pair, jwk: Record<string, unknown>, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const payload = { jti: `j-${Math.random()}`, htm: 'GET', htu: 'https://api.example.com/r', iat: now, ath: createHash('sha256').update('t').digest('base64url'), ...claims }
  return rawToken(alg, signer.privateKey, b64({ typ: 'dpop+jwt', alg, jwk, ...header }), b64(payload))
}

for (const alg of ALGS) {
  t.test(`${alg} proofs: fast path and jose agree`, async (t) => {
    const own = generatePair(alg)
    const other = generatePair(alg)
    const now = Math.floor(Date.now() / 1000)
    const jwk = jwkOf(own)
    const cases: Array<[string, () => string, 'ok' | RegExp]> = [
      ['valid', () => proofOf(alg, own, jwk), 'ok'],
      ['valid, jwk with its alg', () => proofOf(alg, own, { ...jwk, alg }), 'ok'],
      ['valid again (key from the cache)', () => proofOf(alg, own, jwk), 'ok'],
      ['valid, exp in the future, nbf in the past', () => proofOf(alg, own, jwk, { exp: now + 60, nbf: now - 60 }), 'ok'],
      ['valid, b64:false without crit', () => proofOf(alg, own, jwk, {}, { b64: false }), 'ok'],
      ['signed by another key', () => proofOf(alg, other, jwk), /^proof_signature_invalid/],
      ['tampered signature', () => { const p = proofOf(alg, own, jwk); return p.slice(0, -6) + (p.at(-6) === 'A' ? 'B' : 'A') + p.slice(-5) }, /^proof_signature_invalid/],
      ['tampered payload', () => { const [h,, s] = proofOf(alg, own, jwk).split('.'); return `${h}.${b64({ jti: 'x', htm: 'POST', htu: 'https://api.example.com/r', iat: now })}.${s}` }, /^proof_signature_invalid/],
      ['expired', () => proofOf(alg, own, jwk, { exp: now - 60 }), /^proof_expired/],
      ['nbf in the future', () => proofOf(alg, own, jwk, { nbf: now + 60 }), /^proof_invalid/],
      ['iat not a number', () => proofOf(alg, own, jwk, { iat: 'now' }), /^proof_invalid/],
      ['exp not a number', () => proofOf(alg, own, jwk, { exp: 'later' }), /^proof_invalid/],
      ['payload not UTF-8', () => { const [h] = proofOf(alg, own, jwk).split('.'); const p = Buffer.concat([Buffer.from('{"jti":"'), Buffer.from([0xff]), Buffer.from('"}')]).toString('base64url'); return rawToken(alg, own.privateKey, h as string, p) }, /^proof_invalid/],
      ['jwk with use (jose only)', () => proofOf(alg, own, { ...jwk, use: 'sig' }), 'ok'],
      ['jwk with use enc (jose only)', () => proofOf(alg, own, { ...jwk, use: 'enc' }), /^proof_invalid/],
      ['jwk with key_ops (jose only)', () => proofOf(alg, own, { ...jwk, key_ops: ['verify'] }), 'ok'],
      ['jwk member not a string', () => proofOf(alg, own, { ...jwk, [alg.startsWith('E') ? 'x' : 'n']: 5 }), /^proof_invalid/],
      ['jwk of another key (import fine, signature not)', () => proofOf(alg, own, jwkOf(other)), /^proof_signature_invalid/],
      ['signature of 1 mod 4 characters', () => { const p = proofOf(alg, own, jwk); const s = p.split('.')[2] as string; return p + 'A'.repeat(((1 - s.length % 4) + 4) % 4) }, /^proof_(invalid|signature_invalid)/]
    ]
    if (alg.startsWith('ES')) {
      // A point not on the curve: the import fails, for jose as for the fast path.
      cases.push(['jwk point not on the curve', () => proofOf(alg, own, { ...jwk, y: jwk.x }), /^proof_invalid/])
    }
    for (const [name, mint, expected] of cases) {
      const compact = mint()
      const a = await ours(compact, alg)
      const b = await reference(compact, alg)
      t.equal(a, b, `${alg} ${name}: same outcome (${b})`)
      if (expected === 'ok') t.equal(b, 'ok', `${alg} ${name}: accepted`)
      else t.match(b, expected, `${alg} ${name}: refused as expected`)
    }
  })
}

t.test('RSA proof keys under 2048 bits: the fast path declines, jose refuses', async (t) => {
  const small = generatePair('RS256', 1024)
  const compact = proofOf('RS256', small, jwkOf(small))
  t.equal(await ours(compact, 'RS256'), await reference(compact, 'RS256'))
  t.match(await reference(compact, 'RS256'), /^proof_invalid TypeError/)
})

t.test('proof key ids: RFC 7638 thumbprints, and no id for keys with other members', async (t) => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
  const { calculateJwkThumbprint } = await import('jose')
  t.equal(proofKeyId(jwk, 'ES256'), `ES256 ${await calculateJwkThumbprint(jwk as JWK)}`)
  t.equal(proofKeyId({ ...jwk, alg: 'ES256' }, 'ES256'), proofKeyId(jwk, 'ES256'), 'alg is not part of the thumbprint')
  t.equal(proofKeyId({ ...jwk, kid: 'k' }, 'ES256'), undefined)
  t.equal(proofKeyId({ ...jwk, kty: 'oct' }, 'ES256'), undefined)
  t.equal(proofKeyId({ ...jwk, kty: '__proto__' }, 'ES256'), undefined)
  t.equal(await proofKey({ ...jwk, d: 'x' }, 'ES256'), undefined)
  for (const pair of [generatePair('RS256'), generatePair('ES384'), generatePair('EdDSA')]) {
    const key = pair.jwk as Record<string, unknown>
    t.equal(jwkThumbprint(key), await calculateJwkThumbprint(key as JWK), `thumbprint of ${String(key.kty)}`)
    t.equal(jwkThumbprint({ ...key, kid: 'k', use: 'sig' }), await calculateJwkThumbprint({ ...key, kid: 'k', use: 'sig' } as JWK), 'other members ignored, as jose does')
  }
  t.equal(jwkThumbprint({ ...jwk, x: 1 }), undefined, 'left to jose')
  t.equal(jwkThumbprint({ kty: 'oct', k: 'x' }), undefined, 'left to jose')
  const key = await proofKey(jwk, 'ES256')
  t.equal(await proofKey({ ...jwk }, 'ES256'), key, 'imported once per distinct JWK')
})
