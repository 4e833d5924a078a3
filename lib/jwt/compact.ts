/**
 * Splits a compact JWS and decodes its header and payload without trusting them, so the cheap
 * checks (algorithm allowlist, issuer allowlist) run before any network call or signature check.
 * The grammar is strict: unpadded, canonical base64url only. jose 6 accepts a signature with `==`
 * appended, or with the unused bits of its last character set; this check refuses both, so a
 * token has exactly one accepted spelling. JSON is read from strict UTF-8, as jose reads it, so
 * this one decoding is also the one the signature fast path uses (no token is parsed twice).
 */
import { isUtf8 } from 'node:buffer'
import { InvalidTokenError, type ChallengeScheme } from '../errors.js'
import { SegmentMemo } from './segment-memo.js'

const SEGMENT = /^[A-Za-z0-9_-]+$/
// Three base64url segments: the shape of every JWS token, which is also RFC 6750 b64token grammar.
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * The last token found to have the JWS shape. The shape is a property of the text alone, so the
 * Authorization header reader's check (`jwsShaped`) stands for `decodeCompactJws`'s when the same
 * text arrives there (`===`: the very same string object in the usual flow, compared in O(1)): a
 * ~1 KB token is then scanned once per request, not twice.
 */
let shaped: string | undefined

/** Whether `token` is three base64url segments (then a valid b64token as well), remembered. */
export function jwsShaped (token: string): boolean {
  if (!JWS_SHAPE.test(token)) return false
  shaped = token
  return true
}

export interface DecodedJws {
  header: Record<string, unknown>
  payload: Record<string, unknown>
}

const NOT_A_JWT = 'not a JWT access token (opaque or encrypted); did the client request an audience?'

/** A base64url segment's JSON, read from strict UTF-8; `undefined` when it is not. */
export function decodeJson (segment: string): unknown {
  // A length of 1 mod 4 is not valid base64url; Buffer would silently drop the last character.
  if (segment.length % 4 === 1) return undefined
  const bytes = Buffer.from(segment, 'base64url')
  if (!isUtf8(bytes)) return undefined
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Whether a base64url segment (of alphabet characters) is the one spelling of its bytes: no
 * dangling character (length 1 mod 4), and the unused low bits of the last character zero
 * (4 of them after 2 characters of a group, 2 after 3). Read off the string, nothing decoded.
 */
export function canonical (segment: string): boolean {
  const rest = segment.length % 4
  if (rest === 0) return true
  if (rest === 1) return false
  return (ALPHABET.indexOf(segment.charAt(segment.length - 1)) & (rest === 2 ? 0x0f : 0x03)) === 0
}

export function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// The headers of the tokens seen lately (an issuer has a handful: one per key and algorithm).
const headers = new SegmentMemo<Record<string, unknown>>(64, 1024)

export function decodeCompactJws (token: string, scheme: ChallengeScheme): DecodedJws {
  let h: string, p: string, s: string
  if (token === shaped) {
    const dot1 = token.indexOf('.')
    const dot2 = token.indexOf('.', dot1 + 1)
    h = token.slice(0, dot1)
    p = token.slice(dot1 + 1, dot2)
    s = token.slice(dot2 + 1)
  } else {
    const parts = token.split('.')
    if (parts.length !== 3) {
      throw new InvalidTokenError('not_a_jws', NOT_A_JWT, { scheme })
    }
    [h, p, s] = parts as [string, string, string]
    if (!SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(s)) {
      throw new InvalidTokenError('malformed', 'access token is not a well-formed compact JWS', { scheme })
    }
  }
  // The signature must be canonical base64url: unused low bits of its last character set to
  // zero would otherwise give one signature many spellings (the signing input pins h and p).
  if (!canonical(s)) {
    throw new InvalidTokenError('malformed', 'access token is not a well-formed compact JWS', { scheme })
  }
  let header: unknown = headers.get(h)
  if (header === undefined) {
    header = decodeJson(h)
    if (!isObject(header) || typeof header.alg !== 'string') {
      throw new InvalidTokenError('malformed', 'access token header is not valid JSON with an alg', { scheme })
    }
    if ('enc' in header) throw new InvalidTokenError('not_a_jws', NOT_A_JWT, { scheme })
    // Only headers that passed: a remembered header needs none of the checks above again.
    headers.remember(h, header)
  }
  const payload = decodeJson(p)
  if (!isObject(payload)) {
    throw new InvalidTokenError('malformed', 'access token payload is not a JSON object', { scheme })
  }
  return { header: header as Record<string, unknown>, payload }
}
