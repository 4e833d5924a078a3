/**
 * lib/dpop/binding.ts on its own: `ath` against node:crypto's SHA-256 and RFC 9449's example,
 * `cnf.jkt` required, and the proof key's RFC 7638 thumbprint (jose's, as witness) matched to it.
 */
import t from 'tap'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { accessTokenHash, matchBinding, requireBinding } from '../../lib/dpop/binding.js'
import { InvalidTokenError } from '../../lib/errors.js'
import type { AccessTokenClaims } from '../../lib/types.js'
import { refusal } from '../helpers/refusal.js'

const claimsOf = (claims: Record<string, unknown>): AccessTokenClaims => claims as unknown as AccessTokenClaims

t.test('ath: base64url(SHA-256(token))', async (t) => {
  // RFC 9449 §7.1: the access token of the example and its `ath`.
  t.equal(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU'), 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo')
  for (const token of ['a', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln', 'x'.repeat(5000)]) {
    t.equal(accessTokenHash(token), createHash('sha256').update(token).digest('base64url'), `${token.length} characters`)
  }
})

t.test('requireBinding: the cnf.jkt of a bound token, a refusal for any other', async (t) => {
  t.equal(requireBinding(claimsOf({ cnf: { jkt: 'thumb' } })), 'thumb')
  for (const claims of [{}, { cnf: {} }, { cnf: { 'x5t#S256': 'x' } }]) {
    const err = refusal(() => requireBinding(claimsOf(claims)))
    t.ok(err instanceof InvalidTokenError, JSON.stringify(claims))
    t.equal(err.reason, 'token_not_bound')
    t.equal(err.error_description, 'DPoP scheme used with a token that is not DPoP-bound')
    t.equal(err.scheme, 'dpop', 'on the DPoP challenge')
    t.equal(err.statusCode, 401)
  }
})

t.test('matchBinding: the RFC 7638 thumbprint of the proof key must equal cnf.jkt', async (t) => {
  for (const type of ['ec', 'rsa', 'ed25519'] as const) {
    const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')
    const jwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>
    const jkt = await calculateJwkThumbprint(jwk as JWK)
    t.equal(matchBinding(jkt, jwk), jkt, `${type}: the thumbprint returned`)
    t.equal(matchBinding(jkt, { ...jwk, kid: 'k', alg: 'x' }), jkt, `${type}: members outside the thumbprint do not count`)
    const other = refusal(() => matchBinding(jkt.slice(1), jwk))
    t.ok(other instanceof InvalidTokenError)
    t.equal(other.reason, 'jkt_mismatch')
    t.equal(other.error_description, 'DPoP proof key does not match the token binding (cnf.jkt)')
    t.equal(other.scheme, 'dpop')
    t.equal(refusal(() => matchBinding(jkt, { ...jwk, kty: 'oct' })).reason, 'jkt_mismatch', `${type}: no thumbprint at all never matches`)
  }
})
