/**
 * A grammar oracle for `WWW-Authenticate`, written from the RFCs and independent of lib/ (it
 * imports nothing from it): a strict parser of the header (RFC 9110 §11.6.1, §11.2, §5.6) and a
 * check of each parameter against the grammar of the RFC that defines it:
 *
 * - RFC 9110 §11: `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`,
 *   `auth-param = token BWS "=" BWS ( token / quoted-string )`; a parameter name occurs at most
 *   once per challenge (§11.2); a sender generates no empty list element (§5.6.1); `realm` is
 *   sent as a quoted-string (§11.5).
 * - RFC 6750 §3 with RFC 6749 Appendix A: `error` and `error_description` = 1*NQSCHAR
 *   (%x20-21 / %x23-5B / %x5D-7E: no `"`, no `\`, no control or non-ASCII character);
 *   `scope` = scope-token *( SP scope-token ), scope-token = 1*NQCHAR (%x21 / %x23-5B / %x5D-7E);
 *   `realm`, `error`, `error_description`, `scope` at most once; `Bearer` is followed by at
 *   least one auth-param.
 * - RFC 9449 §7.1: `algs` a space-separated list of JWS `alg` values (registered asymmetric ones:
 *   a DPoP proof is signed with a private key).
 * - RFC 9470 §3: `acr_values` a space-separated list of acr values; `max_age` a non-negative
 *   integer (seconds).
 * - RFC 9728 §5.1: `resource_metadata` an absolute https URL (http only for a loopback host, the
 *   way this project's tests run), no fragment.
 *
 * `parseChallenges` throws a `GrammarError` naming the first violation; `checkChallenges` parses
 * and applies every parameter check; `assertChallenges` is the tap-friendly wrapper.
 */

import type { Test } from 'tap'

export class GrammarError extends Error {
  constructor (message: string, header: string) {
    super(`${message} in WWW-Authenticate: ${JSON.stringify(header)}`)
    this.name = 'GrammarError'
  }
}

export interface Challenge {
  /** As sent (auth-scheme is case-insensitive: compare `scheme.toLowerCase()`). */
  scheme: string
  /** Parameter names lower-cased (they are case-insensitive), values unquoted. */
  params: Record<string, string>
  /** How each parameter was written. */
  quoted: Record<string, boolean>
  token68?: string
}

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/
// RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/
// RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text; quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
const QDTEXT = /[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]/
const QUOTED_PAIR_CHAR = /[\t \x21-\x7e\x80-\xff]/

/** A cursor over the header with the primitives of RFC 9110 §5.6. */
class Reader {
  pos = 0
  constructor (readonly text: string) {}

  fail (message: string): never {
    throw new GrammarError(`${message} at offset ${this.pos}`, this.text)
  }

  get done (): boolean { return this.pos >= this.text.length }
  peek (offset = 0): string { return this.text.charAt(this.pos + offset) }

  /** OWS / BWS = *( SP / HTAB ) */
  ows (): number {
    const start = this.pos
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++
    return this.pos - start
  }

  token (): string {
    const start = this.pos
    while (!this.done && TCHAR.test(this.peek())) this.pos++
    if (this.pos === start) this.fail('token expected')
    return this.text.slice(start, this.pos)
  }

  quotedString (): string {
    if (this.peek() !== '"') this.fail('quoted-string expected')
    this.pos++
    let value = ''
    for (;;) {
      if (this.done) this.fail('unterminated quoted-string')
      const c = this.peek()
      if (c === '"') { this.pos++; return value }
      if (c === '\\') {
        const next = this.peek(1)
        if (next === '' || !QUOTED_PAIR_CHAR.test(next)) this.fail('invalid quoted-pair')
        value += next
        this.pos += 2
        continue
      }
      if (!QDTEXT.test(c)) this.fail(`character U+${c.charCodeAt(0).toString(16).padStart(4, '0')} not allowed in a quoted-string`)
      value += c
      this.pos++
    }
  }
}

/**
 * The challenges of one `WWW-Authenticate` field value, parsed strictly (a sender's view: no
 * empty list elements, no duplicate parameter in a challenge, no trailing garbage).
 */
export function parseChallenges (header: string): Challenge[] {
  const r: Reader = new Reader(header)
  const challenges: Challenge[] = []
  if (header.trim() === '') r.fail('empty field value')
  if (/^[ \t]|[ \t]$/.test(header)) r.fail('leading or trailing whitespace (RFC 9110 §5.5)')
  let current: Challenge | undefined
  for (;;) {
    const name = r.token()
    const afterName = r.pos
    const ws = r.ows()
    if (current !== undefined && current.token68 === undefined && r.peek() === '=') {
      // After a comma: another auth-param of the current challenge (token BWS "=" BWS value).
      r.pos++
      r.ows()
      readParam(r, current, name.toLowerCase())
    } else {
      // A new challenge: auth-scheme [ 1*SP ( token68 / #auth-param ) ]
      current = { scheme: name, params: {}, quoted: {} }
      challenges.push(current)
      if (ws > 0 && !r.done && r.peek() !== ',') {
        if (!/^ +$/.test(r.text.slice(afterName, r.pos))) r.fail('only SP separates an auth-scheme from its parameters')
        const rest = r.text.slice(r.pos)
        // An auth-param, unless what follows the "=" is more "=" up to the end of the element (a token68).
        const param = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*=(?!=*[ \t]*(?:,|$))/.exec(rest)
        if (param !== null) {
          r.pos += param[0].length
          r.ows()
          readParam(r, current, (param[1] as string).toLowerCase())
        } else {
          const m = TOKEN68.exec(rest)
          if (m === null) r.fail('token68 or auth-param expected')
          current.token68 = m[0]
          r.pos += m[0].length
        }
      }
    }
    r.ows()
    if (r.done) break
    if (r.peek() !== ',') r.fail('"," expected')
    r.pos++
    r.ows()
    if (r.done || r.peek() === ',') r.fail('empty list element')
  }
  return challenges
}

function readParam (r: Reader, challenge: Challenge, name: string): void {
  if (name in challenge.params) r.fail(`parameter ${name} repeated in one challenge (RFC 9110 §11.2)`)
  if (r.peek() === '"') {
    challenge.params[name] = r.quotedString()
    challenge.quoted[name] = true
  } else {
    challenge.params[name] = r.token()
    challenge.quoted[name] = false
  }
}

// RFC 6749 Appendix A: NQSCHAR = %x20-21 / %x23-5B / %x5D-7E; NQCHAR = %x21 / %x23-5B / %x5D-7E
const NQSCHARS = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/
const NQCHAR_TOKENS = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/
/** Error codes of RFC 6750 §3.1, RFC 9449 §7.1 / §8, RFC 9470 §3. */
export const ERROR_CODES = new Set(['invalid_request', 'invalid_token', 'insufficient_scope', 'invalid_dpop_proof', 'use_dpop_nonce', 'insufficient_user_authentication'])
/** Asymmetric JWS algorithms of the IANA registry a DPoP proof can use. */
const ASYMMETRIC_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA', 'Ed25519', 'Ed448', 'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'])
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Checks one parameter's value against the grammar of its RFC; throws a `GrammarError`. */
function checkParam (header: string, scheme: string, name: string, value: string, quoted: boolean): void {
  const fail: (why: string) => never = (why) => { throw new GrammarError(`${scheme} ${name}=${JSON.stringify(value)}: ${why}`, header) }
  switch (name) {
    case 'realm':
      if (!quoted) fail('realm must be a quoted-string (RFC 9110 §11.5)')
      break
    case 'error':
      if (!NQSCHARS.test(value)) fail('not 1*NQSCHAR (RFC 6750 §3)')
      if (!ERROR_CODES.has(value)) fail('not a registered error code')
      break
    case 'error_description':
      if (!NQSCHARS.test(value)) fail('not 1*NQSCHAR: only %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3)')
      break
    case 'error_uri':
      if (!NQSCHARS.test(value) || !URL.canParse(value)) fail('not an absolute URI of NQSCHARs (RFC 6750 §3)')
      break
    case 'scope':
      if (!NQCHAR_TOKENS.test(value)) fail('not space-separated NQCHAR scope-tokens (RFC 6750 §3, RFC 6749 §3.3)')
      break
    case 'algs':
      if (!NQCHAR_TOKENS.test(value)) fail('not a space-separated list (RFC 9449 §7.1)')
      for (const alg of value.split(' ')) if (!ASYMMETRIC_ALGS.has(alg)) fail(`${alg} is not an asymmetric JWS algorithm (RFC 9449 §7.1)`)
      if (new Set(value.split(' ')).size !== value.split(' ').length) fail('an algorithm is listed twice')
      break
    case 'acr_values':
      if (!NQCHAR_TOKENS.test(value)) fail('not a space-separated list of acr values (RFC 9470 §3)')
      break
    case 'max_age':
      if (!/^(0|[1-9][0-9]*)$/.test(value) || !Number.isSafeInteger(Number(value))) fail('not a non-negative integer (RFC 9470 §3)')
      break
    case 'resource_metadata': {
      if (!NQSCHARS.test(value) || value.includes(' ')) fail('not a URL (RFC 9728 §5.1)')
      let url: URL
      try { url = new URL(value) } catch { fail('not an absolute URL (RFC 9728 §5.1)') }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) fail('not https (RFC 9728 §5.1; http only on loopback)')
      if (url.hash !== '' || value.includes('#')) fail('has a fragment')
      break
    }
    default:
      // Extension parameters (RFC 9110 §11.2): any token or quoted-string value is valid.
      break
  }
}

/** Parses `header` and checks every parameter; returns the challenges. Throws a `GrammarError`. */
export function checkChallenges (header: string): Challenge[] {
  const challenges = parseChallenges(header)
  const schemes = new Set<string>()
  for (const challenge of challenges) {
    const scheme = challenge.scheme.toLowerCase()
    if (schemes.has(scheme)) throw new GrammarError(`two ${challenge.scheme} challenges`, header)
    schemes.add(scheme)
    if (scheme === 'bearer' || scheme === 'dpop') {
      if (challenge.token68 !== undefined) throw new GrammarError(`${challenge.scheme} takes auth-params, not a token68`, header)
      if (Object.keys(challenge.params).length === 0) throw new GrammarError(`${challenge.scheme} must be followed by at least one auth-param (RFC 6750 §3)`, header)
      if ('error_description' in challenge.params && !('error' in challenge.params)) throw new GrammarError('error_description without error', header)
    }
    for (const [name, value] of Object.entries(challenge.params)) checkParam(header, challenge.scheme, name, value, challenge.quoted[name] as boolean)
  }
  return challenges
}

/** A refusal as a test sees it: status, headers, and the parsed body. */
export interface Refusal {
  statusCode: number
  headers: Record<string, unknown>
  body: unknown
}

/** What the oracle learnt from a refusal: its challenges, and the challenge carrying the error. */
export interface CheckedRefusal {
  challenges: Challenge[]
  /** The challenge with an `error` parameter, if any. */
  withError?: Challenge
}

/**
 * Checks a whole refusal: the header's grammar (when present; a 401 must carry one, RFC 9110
 * §15.5.2), at most one challenge carrying `error`, and that challenge's `error` /
 * `error_description` being exactly the body's `detail` (SPEC §4).
 */
export function checkRefusal (res: Refusal): CheckedRefusal {
  const header = res.headers['www-authenticate']
  if (header === undefined) {
    if (res.statusCode === 401) throw new GrammarError('a 401 without a challenge (RFC 9110 §15.5.2)', '')
    return { challenges: [] }
  }
  if (typeof header !== 'string') throw new GrammarError('not one header line', String(header))
  const challenges = checkChallenges(header)
  const withErrors = challenges.filter((c) => 'error' in c.params)
  if (withErrors.length > 1) throw new GrammarError('more than one challenge carries an error', header)
  const withError = withErrors[0]
  const detail = (res.body as { detail?: { error?: unknown, error_description?: unknown } } | undefined)?.detail
  // Only the plugin's body shape is compared: an `errorResponse` hook may send another one (an RFC
  // 9457 problem document has a string `detail`), and the header's grammar is all it shares.
  if (withError !== undefined && typeof detail === 'object' && detail !== null) {
    if (withError.params.error !== detail.error) throw new GrammarError(`challenge error ${withError.params.error ?? ''} is not the body's ${String(detail.error)}`, header)
    if (withError.params.error_description !== detail.error_description) {
      throw new GrammarError(`challenge error_description is not the body's ${JSON.stringify(detail.error_description)}`, header)
    }
  }
  return withError === undefined ? { challenges } : { challenges, withError }
}

/** Tap-style wrapper: one `ok` assertion naming the violation. */
export function assertChallenges (t: Pick<Test, 'ok'>, res: Refusal, message = 'WWW-Authenticate obeys its grammar (oracle)'): CheckedRefusal | undefined {
  try {
    const checked = checkRefusal(res)
    t.ok(true, message)
    return checked
  } catch (err) {
    t.ok(false, `${message}: ${(err as Error).message}`)
    return undefined
  }
}
