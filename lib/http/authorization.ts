/**
 * Reads the credentials of a request: exactly one Authorization header, `<scheme> <token>` with a
 * case-insensitive scheme (RFC 9110 §11.1), a token in RFC 6750 b64token grammar, capped in length
 * before anything decodes it.
 */
import { InvalidRequestError, InvalidTokenError } from '../errors.js'
import { jwsShaped } from '../jwt/compact.js'

export interface Credentials {
  scheme: 'bearer' | 'dpop'
  token: string
}

type HeaderValue = string | string[] | undefined

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

// RFC 9110 §11.1 / §5.6.2: auth-scheme = token = 1*tchar
const SCHEME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// RFC 9110 §5.5 / §5.6.3: the whitespace around a field value is OWS, SP and HTAB only (`trim()`
// would also strip obs-text such as NBSP, %xA0, and so accept `Bearer <token>%xA0`).
const OWS_AROUND = /^[ \t]+|[ \t]+$/g
// RFC 6750 §2.1, RFC 9110 §11.4: the scheme and the token are separated by 1*SP (no HTAB).
const LEADING_SP = /^ +/

/**
 * Credentials of a scheme this resource does not support (`Basic …`, `Token …`, a bare JWT read
 * as a scheme name). RFC 6750 §3 and RFC 9110 §11.6.1: answered like no credentials, with the
 * bare challenge that tells the client which schemes to use; not as a malformed request.
 */
export const FOREIGN_SCHEME: unique symbol = Symbol('fastify-auth0-api: foreign scheme')

/**
 * `undefined` when the request carries no credentials (no header, or an empty one);
 * `FOREIGN_SCHEME` for credentials of another scheme.
 * `count` is how many Authorization header lines arrived (Node keeps only the first).
 */
export function readCredentials (value: HeaderValue, count: number, maxTokenLength: number): Credentials | typeof FOREIGN_SCHEME | undefined {
  if (count > 1 || Array.isArray(value)) {
    if (Array.isArray(value) && value.length === 1) return readCredentials(value[0], 1, maxTokenLength)
    throw new InvalidRequestError('authorization_header_repeated', 'more than one Authorization header')
  }
  if (value === undefined) return undefined
  // The usual spelling, `Bearer <b64token>` or `DPoP <b64token>`, read without copying the header
  // more than once; anything else (other case, extra spaces, a bad token) takes the full path
  // below for its exact error.
  const usual = value.startsWith('Bearer ') ? 'bearer' : value.startsWith('DPoP ') ? 'dpop' : undefined
  if (usual !== undefined) {
    const token = value.slice(usual === 'bearer' ? 7 : 5)
    // A JWS (three base64url segments) is a b64token: one scan, which the JWS decoding reuses.
    if (token.length <= maxTokenLength && (jwsShaped(token) || B64TOKEN.test(token))) return { scheme: usual, token }
  }
  // Leading and trailing whitespace is not part of a field value (RFC 9110 §5.5).
  const header = value.replace(OWS_AROUND, '')
  if (header === '') return undefined
  const space = header.indexOf(' ')
  const name = (space === -1 ? header : header.slice(0, space)).toLowerCase()
  // `Bearer` or `DPoP` without a token, or a first word that is no scheme name at all: malformed.
  if (space === -1 && (name === 'bearer' || name === 'dpop')) throw new InvalidRequestError('authorization_header_malformed', 'Authorization header must be <scheme> <token>')
  if (!SCHEME.test(name)) throw new InvalidRequestError('authorization_header_malformed', 'Authorization header must be <scheme> <token>')
  let scheme: Credentials['scheme']
  if (name === 'bearer') scheme = 'bearer'
  else if (name === 'dpop') scheme = 'dpop'
  else return FOREIGN_SCHEME
  const token = header.slice(space + 1).replace(LEADING_SP, '')
  if (token.length > maxTokenLength) {
    throw new InvalidTokenError('token_too_large', 'access token too large', { scheme })
  }
  if (token.includes(' ') || token.includes(',')) {
    throw new InvalidRequestError('authorization_header_malformed', 'Authorization header must carry exactly one token', { scheme })
  }
  if (!B64TOKEN.test(token)) {
    throw new InvalidRequestError('authorization_header_malformed', 'access token contains characters not allowed in a bearer token', { scheme })
  }
  return { scheme, token }
}
