/**
 * What ties the proof to the access token: `ath` (the proof was made for this token) and `cnf.jkt`
 * (the token was issued for this proof key, RFC 9449 §6). A binding failure is the token's fault
 * (401 `invalid_token`): the token is not usable with this key.
 */
import { hash } from 'node:crypto'
import { InvalidTokenError } from '../errors.js'
import { jwkThumbprint } from './proof-key.js'
import type { AccessTokenClaims } from '../types.js'

/** `ath`: base64url(SHA-256(ASCII access token)). The token is b64token grammar, so ASCII. */
export function accessTokenHash (token: string): string {
  return hash('sha256', token, 'base64url')
}

/** The `cnf.jkt` of a token presented with the DPoP scheme; an unbound token is refused. */
export function requireBinding (claims: AccessTokenClaims): string {
  const jkt = claims.cnf?.jkt
  if (jkt === undefined) {
    throw new InvalidTokenError('token_not_bound', 'DPoP scheme used with a token that is not DPoP-bound', { scheme: 'dpop' })
  }
  return jkt
}

/** RFC 7638 SHA-256 thumbprint of the proof key, which must equal `cnf.jkt`. */
export function matchBinding (jkt: string, jwk: Record<string, unknown>): string {
  // node:crypto, synchronously: the proof's signature was checked with this key, so its members
  // are the strings a thumbprint needs (were they not, `undefined` would fail the match).
  const thumbprint = jwkThumbprint(jwk)
  if (thumbprint !== jkt) {
    throw new InvalidTokenError('jkt_mismatch', 'DPoP proof key does not match the token binding (cnf.jkt)', { scheme: 'dpop' })
  }
  return thumbprint
}
