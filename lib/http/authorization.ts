/**
 * Reads the credentials of a request: exactly one Authorization header, `<scheme> <token>` with a
 * case-insensitive scheme (RFC 9110 §11.1), a token in RFC 6750 b64token grammar, capped in length
 * before anything decodes it.
 */
import { InvalidRequestError, InvalidTokenError } from '../errors.js'

export interface Credentials {
  scheme: 'bearer' | 'dpop'
  token: string
}

type HeaderValue = string | string[] | undefined

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * `undefined` when the request carries no credentials (no header, or an empty one).
 * `count` is how many Authorization header lines arrived (Node keeps only the first).
 */
export function readCredentials (value: HeaderValue, count: number, maxTokenLength: number): Credentials | undefined {
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
    if (token.length <= maxTokenLength && B64TOKEN.test(token)) return { scheme: usual, token }
  }
  // Leading and trailing whitespace is not part of a field value (RFC 9110 §5.5).
  const header = value.trim()
  if (header === '') return undefined
  const space = header.indexOf(' ')
  if (space === -1) throw new InvalidRequestError('authorization_header_malformed', 'Authorization header must be <scheme> <token>')
  const name = header.slice(0, space).toLowerCase()
  let scheme: Credentials['scheme']
  if (name === 'bearer') scheme = 'bearer'
  else if (name === 'dpop') scheme = 'dpop'
  else throw new InvalidRequestError('authorization_scheme_unsupported', 'unsupported authorization scheme (use Bearer or DPoP)')
  const token = header.slice(space + 1).trimStart()
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
