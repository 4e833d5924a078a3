/**
 * Differential proof of the signature fast path (lib/jwt/fast-verify.ts): every token below goes
 * through the fast path (falling back to jose when it declines, as production does) and through
 * plain jose `jwtVerify` with the same key and options, and the verdicts must be identical: the
 * same payload when accepted, the same error class, code, claim, reason and message when not.
 * Then the same again one level up, for the reasons our API reports (`verifyClaims` against
 * `jwtVerify` + the same extra checks). Tokens go through `decodeCompactJws` first, as in the
 * pipeline: the fast path is only ever given tokens of the strict compact grammar.
 */
import { webcrypto, type KeyObject } from 'node:crypto'
import t, { type Test } from 'tap'
import { errors, jwtVerify, type CryptoKey, type JWTPayload } from 'jose'
import { AuthError, InvalidTokenError } from '../../lib/errors.js'
import { checkClaims, joseOptions, mapJoseError, verifyClaims, type ClaimRules } from '../../lib/jwt/claims.js'
import { decodeCompactJws } from '../../lib/jwt/compact.js'
import { verifyJwtFast, type FastVerifyOptions, type StrictlyDecoded } from '../../lib/jwt/fast-verify.js'
import { ALGORITHMS, AUDIENCE, b64, claims, generatePair, ISSUER, rawToken, selectKey, signInput, token, type Pair } from './kit.js'

type Verdict = { ok: true, payload: JWTPayload } | { ok: false, error: string }

function describe (err: unknown): string {
  if (err instanceof errors.JOSEError) {
    const { claim, reason } = err as Partial<errors.JWTClaimValidationFailed>
    return `${err.constructor.name} ${err.code} ${claim ?? '-'} ${reason ?? '-'}: ${err.message}`
  }
  return `${(err as Error).constructor.name}: ${(err as Error).message}`
}

async function joseVerdict (jwt: string, key: CryptoKey, options: FastVerifyOptions): Promise<Verdict> {
  try {
    return { ok: true, payload: (await jwtVerify(jwt, key, options)).payload }
  } catch (err) {
    return { ok: false, error: describe(err) }
  }
}

/** The fast path as production runs it; `path` says who decided. */
async function fastVerdict (jwt: string, key: CryptoKey, options: FastVerifyOptions, decoded?: StrictlyDecoded): Promise<Verdict & { path: 'fast' | 'jose' }> {
  let payload: JWTPayload | undefined
  try {
    payload = verifyJwtFast(jwt, key, options, decoded)
  } catch (err) {
    return { ok: false, error: describe(err), path: 'fast' }
  }
  if (payload !== undefined) return { ok: true, payload, path: 'fast' }
  return { ...await joseVerdict(jwt, key, options), path: 'jose' }
}

/** What our API reports for a token: the `reason` of the error, or `ok`. */
async function reason (run: () => Promise<unknown>): Promise<string> {
  try {
    await run()
    return 'ok'
  } catch (err) {
    return err instanceof InvalidTokenError ? err.reason : describe(err)
  }
}

interface Case {
  name: string
  /** Minted when the case runs, so time-based claims are fresh. */
  jwt: () => string
  key?: CryptoKey
  options?: Partial<FastVerifyOptions>
  /** Who must decide: the fast path itself, or jose after the fast path declined. */
  path?: 'fast' | 'jose'
  /** Expected outcome of plain jose, as a sanity check of the case itself. */
  jose: 'accept' | 'reject'
}

const rulesFor = (alg: string, options: Partial<FastVerifyOptions> = {}): ClaimRules => ({
  issuer: options.issuer ?? ISSUER,
  audience: options.audience ?? [AUDIENCE],
  algorithms: options.algorithms ?? [alg],
  clockTolerance: options.clockTolerance ?? 5
})

function flip (segment: string, at: number): string {
  const c = segment[at] as string
  return segment.slice(0, at) + (c === 'A' ? 'B' : 'A') + segment.slice(at + 1)
}

/** The last character of a segment with the unused low bits set: same bytes, other spelling. */
function nonCanonical (segment: string): string | undefined {
  const unused = [0, 0, 4, 2][segment.length % 4] as number
  if (unused === 0) return undefined
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(segment.at(-1) as string)
  return segment.slice(0, -1) + alphabet[last | ((1 << unused) - 1)]
}

function cases (alg: string, own: Pair, other: Pair): Case[] {
  const k = own.privateKey
  const now = (): number => Math.floor(Date.now() / 1000)
  const sign = (header: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): string => token(alg, k, header, extra)
  const payloadRaw = (payload: string, header: Record<string, unknown> = {}): string => rawToken(alg, k, b64({ alg, kid: 'k', ...header }), payload)
  const parts = (jwt: string): [string, string, string] => jwt.split('.') as [string, string, string]
  return [
    // Valid
    { name: 'valid', jwt: () => sign(), path: 'fast', jose: 'accept' },
    { name: 'valid, no typ, no kid', jwt: () => sign({ typ: undefined, kid: undefined }), path: 'fast', jose: 'accept' },
    { name: 'valid, aud array with ours', jwt: () => sign({}, { aud: ['https://other.example/', AUDIENCE] }), path: 'fast', jose: 'accept' },
    { name: 'valid, one of several audiences', jwt: () => sign(), options: { audience: ['https://x.example/', AUDIENCE] }, path: 'fast', jose: 'accept' },
    { name: 'valid, nbf past', jwt: () => sign({}, { nbf: now() - 60 }), path: 'fast', jose: 'accept' },
    { name: 'valid, nbf within tolerance', jwt: () => sign({}, { nbf: now() + 2 }), path: 'fast', jose: 'accept' },
    { name: 'valid, exp within tolerance', jwt: () => sign({}, { exp: now() - 2 }), path: 'fast', jose: 'accept' },
    { name: 'valid, exp Infinity (1e999)', jwt: () => payloadRaw(b64(JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e999'))), path: 'fast', jose: 'accept' },
    { name: 'valid, extra claims and cnf', jwt: () => sign({}, { scope: 'a b', permissions: ['p'], cnf: { jkt: 'x' }, nested: { a: [1, { b: 2 }] } }), path: 'fast', jose: 'accept' },
    { name: 'valid, __proto__ claim', jwt: () => payloadRaw(b64(JSON.stringify(claims()).replace('{', '{"__proto__":{"admin":true},'))), path: 'fast', jose: 'accept' },
    { name: 'valid, duplicate claim (last wins)', jwt: () => payloadRaw(b64(JSON.stringify(claims()).replace('{', '{"sub":"first",'))), path: 'fast', jose: 'accept' },
    { name: 'valid, b64:false without crit (ignored)', jwt: () => sign({ b64: false }), path: 'fast', jose: 'accept' },
    { name: 'valid, iat in the future (jose accepts; ours checks later)', jwt: () => sign({}, { iat: now() + 600 }), path: 'fast', jose: 'accept' },
    { name: 'valid, sub a number (jose accepts; ours checks later)', jwt: () => sign({}, { sub: 42 }), path: 'fast', jose: 'accept' },
    { name: 'valid, alg among several allowed', jwt: () => sign(), options: { algorithms: ['ES256', 'RS256', alg] }, path: 'fast', jose: 'accept' },

    // Signature
    { name: 'tampered signature (first char)', jwt: () => { const [h, p, s] = parts(sign()); return `${h}.${p}.${flip(s, 0)}` }, path: 'fast', jose: 'reject' },
    { name: 'tampered signature (middle char)', jwt: () => { const [h, p, s] = parts(sign()); return `${h}.${p}.${flip(s, s.length >> 1)}` }, path: 'fast', jose: 'reject' },
    { name: 'signature truncated', jwt: () => { const [h, p, s] = parts(sign()); return `${h}.${p}.${Buffer.from(s.slice(0, -4), 'base64url').toString('base64url')}` }, path: 'fast', jose: 'reject' },
    { name: 'signature doubled', jwt: () => { const [h, p, s] = parts(sign()); return `${h}.${p}.${s}${s.length % 4 === 0 ? s : 'AAAA'}` }, path: 'fast', jose: 'reject' },
    { name: 'signature of another token', jwt: () => { const [h, p] = parts(sign()); const [,, s] = parts(sign({}, { sub: 'other' })); return `${h}.${p}.${s}` }, path: 'fast', jose: 'reject' },
    { name: 'tampered payload', jwt: () => { const [h,, s] = parts(sign()); return `${h}.${b64(claims({ sub: 'admin' }))}.${s}` }, path: 'fast', jose: 'reject' },
    { name: 'tampered header', jwt: () => { const [, p, s] = parts(sign()); return `${b64({ alg, kid: 'k', typ: 'JWT' })}.${p}.${s}` }, path: 'fast', jose: 'reject' },
    { name: 'signed by another key', jwt: () => token(alg, other.privateKey), path: 'fast', jose: 'reject' },
    ...(alg.startsWith('PS')
      ? [
          { name: 'PSS salt length 0', jwt: () => token(alg, k, {}, {}, { saltLength: 0 }), path: 'fast', jose: 'reject' } satisfies Case,
          { name: 'PSS salt length 20', jwt: () => token(alg, k, {}, {}, { saltLength: 20 }), path: 'fast', jose: 'reject' } satisfies Case
        ]
      : []),
    ...(alg.startsWith('ES') ? [{ name: 'ECDSA signature in DER', jwt: () => token(alg, k, {}, {}, { der: true }), path: 'fast', jose: 'reject' } satisfies Case] : []),

    // Header
    { name: 'alg not allowed', jwt: () => sign(), options: { algorithms: [alg === 'ES256' ? 'RS256' : 'ES256'] }, path: 'jose', jose: 'reject' },
    { name: 'alg empty', jwt: () => rawToken(alg, k, b64({ alg: '', kid: 'k' }), b64(claims())), path: 'jose', jose: 'reject' },
    { name: 'alg unknown but allowed', jwt: () => rawToken(alg, k, b64({ alg: 'XS256', kid: 'k' }), b64(claims())), options: { algorithms: ['XS256'] }, path: 'jose', jose: 'reject' },
    alg.startsWith('HS')
      ? { name: 'alg RS256 with the secret as key', jwt: () => rawToken(alg, k, b64({ alg: 'RS256', kid: 'k' }), b64(claims())), options: { algorithms: ['RS256'] }, path: 'jose', jose: 'reject' }
      : { name: 'alg HS256 with the public key', jwt: () => rawToken(alg, k, b64({ alg: 'HS256', kid: 'k' }), b64(claims())), options: { algorithms: ['HS256'] }, path: 'jose', jose: 'reject' },
    { name: 'alg none', jwt: () => rawToken(alg, k, b64({ alg: 'none' }), b64(claims())), options: { algorithms: ['none'] }, path: 'jose', jose: 'reject' },
    { name: 'alg __proto__', jwt: () => rawToken(alg, k, b64({ alg: '__proto__' }), b64(claims())), options: { algorithms: ['__proto__'] }, path: 'jose', jose: 'reject' },
    { name: 'crit unknown', jwt: () => sign({ crit: ['exp'], exp: 1 }), path: 'jose', jose: 'reject' },
    { name: 'crit b64:false', jwt: () => sign({ crit: ['b64'], b64: false }), path: 'jose', jose: 'reject' },
    { name: 'crit b64:true (accepted by jose)', jwt: () => sign({ crit: ['b64'], b64: true }), path: 'jose', jose: 'accept' },
    { name: 'crit b64 not a boolean', jwt: () => sign({ crit: ['b64'], b64: 'no' }), path: 'jose', jose: 'reject' },
    { name: 'crit b64 missing', jwt: () => sign({ crit: ['b64'] }), path: 'jose', jose: 'reject' },
    { name: 'crit empty', jwt: () => sign({ crit: [] }), path: 'jose', jose: 'reject' },
    { name: 'crit not an array', jwt: () => sign({ crit: 'b64', b64: true }), path: 'jose', jose: 'reject' },
    { name: 'crit null', jwt: () => sign({ crit: null }), path: 'jose', jose: 'reject' },
    { name: 'header not UTF-8', jwt: () => rawToken(alg, k, Buffer.concat([Buffer.from(`{"alg":"${alg}","kid":"`), Buffer.from([0xff]), Buffer.from('"}')]).toString('base64url'), b64(claims())), path: 'jose', jose: 'reject' },

    // Payload
    { name: 'payload not UTF-8', jwt: () => payloadRaw(Buffer.concat([Buffer.from(JSON.stringify(claims()).slice(0, -1) + ',"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]).toString('base64url')), path: 'fast', jose: 'reject' },
    { name: 'payload an array', jwt: () => payloadRaw(b64([claims()])), path: 'fast', jose: 'reject' },
    { name: 'payload a string', jwt: () => payloadRaw(b64('"x"')), path: 'fast', jose: 'reject' },
    { name: 'payload null', jwt: () => payloadRaw(b64('null')), path: 'fast', jose: 'reject' },
    { name: 'payload not JSON', jwt: () => payloadRaw(b64('{"iss":')), path: 'fast', jose: 'reject' },

    // Claims
    { name: 'expired', jwt: () => sign({}, { exp: now() - 60 }), path: 'fast', jose: 'reject' },
    { name: 'expired, no tolerance', jwt: () => sign({}, { exp: now() - 3 }), options: { clockTolerance: 0 }, path: 'fast', jose: 'reject' },
    { name: 'nbf in the future', jwt: () => sign({}, { nbf: now() + 60 }), path: 'fast', jose: 'reject' },
    { name: 'nbf not a number', jwt: () => sign({}, { nbf: '0' }), path: 'fast', jose: 'reject' },
    { name: 'nbf null', jwt: () => sign({}, { nbf: null }), path: 'fast', jose: 'reject' },
    { name: 'exp not a number', jwt: () => sign({}, { exp: String(now() + 3600) }), path: 'fast', jose: 'reject' },
    { name: 'iat not a number', jwt: () => sign({}, { iat: 'now' }), path: 'fast', jose: 'reject' },
    { name: 'wrong iss', jwt: () => sign({}, { iss: 'https://evil.example.com/' }), path: 'fast', jose: 'reject' },
    { name: 'iss without trailing slash', jwt: () => sign({}, { iss: ISSUER.slice(0, -1) }), path: 'fast', jose: 'reject' },
    { name: 'iss a number', jwt: () => sign({}, { iss: 1 }), path: 'fast', jose: 'reject' },
    { name: 'wrong aud', jwt: () => sign({}, { aud: 'https://other.example/' }), path: 'fast', jose: 'reject' },
    { name: 'aud array without ours', jwt: () => sign({}, { aud: ['https://other.example/'] }), path: 'fast', jose: 'reject' },
    { name: 'aud empty array', jwt: () => sign({}, { aud: [] }), path: 'fast', jose: 'reject' },
    { name: 'aud a number', jwt: () => sign({}, { aud: 1 }), path: 'fast', jose: 'reject' },
    { name: 'aud an object', jwt: () => sign({}, { aud: { [AUDIENCE]: true } }), path: 'fast', jose: 'reject' },
    { name: 'aud array with non-strings and ours', jwt: () => sign({}, { aud: [1, null, AUDIENCE] }), path: 'fast', jose: 'accept' },
    { name: 'missing exp', jwt: () => sign({}, { exp: undefined }), path: 'fast', jose: 'reject' },
    { name: 'missing iat', jwt: () => sign({}, { iat: undefined }), path: 'fast', jose: 'reject' },
    { name: 'missing sub', jwt: () => sign({}, { sub: undefined }), path: 'fast', jose: 'reject' },
    { name: 'missing iss', jwt: () => sign({}, { iss: undefined }), path: 'fast', jose: 'reject' },
    { name: 'missing aud', jwt: () => sign({}, { aud: undefined }), path: 'fast', jose: 'reject' },
    { name: 'missing everything (which one jose names first)', jwt: () => payloadRaw(b64({})), path: 'fast', jose: 'reject' },
    { name: 'missing exp and sub, wrong aud', jwt: () => sign({}, { exp: undefined, sub: undefined, aud: 'x' }), path: 'fast', jose: 'reject' },
    { name: 'wrong iss and expired', jwt: () => sign({}, { iss: 'x', exp: now() - 600 }), path: 'fast', jose: 'reject' },
    { name: 'nbf future and expired', jwt: () => sign({}, { nbf: now() + 600, exp: now() - 600 }), path: 'fast', jose: 'reject' },
    { name: 'bad signature and expired (signature first)', jwt: () => token(alg, other.privateKey, {}, { exp: now() - 600 }), path: 'fast', jose: 'reject' },
    { name: 'crit unknown and bad signature (header first)', jwt: () => token(alg, other.privateKey, { crit: ['x'], x: 1 }), path: 'jose', jose: 'reject' }
  ]
}

const pairs = new Map<string, { own: Pair, other: Pair }>()
// HS*: one 64-byte secret serves all three (each verifier imports it for its own hash).
const familyOf = (alg: string): string => alg.startsWith('RS') || alg.startsWith('PS') ? 'RSA' : alg.startsWith('ES') ? alg : alg.startsWith('HS') ? 'HMAC' : 'OKP'
for (const alg of ALGORITHMS) {
  const family = familyOf(alg)
  if (!pairs.has(family)) pairs.set(family, { own: generatePair(alg), other: generatePair(alg) })
}
const pairFor = (alg: string): { own: Pair, other: Pair } => pairs.get(familyOf(alg)) as { own: Pair, other: Pair }

/** `decodeCompactJws`'s reading of the token, `undefined` when it refuses the token. */
function strictlyDecoded (jwt: string): StrictlyDecoded | undefined {
  try {
    return decodeCompactJws(jwt, 'bearer')
  } catch {
    return undefined
  }
}

/** What `decodeCompactJws` guarantees before the fast path runs (its JSON checks aside). */
function strictGrammar (jwt: string): boolean {
  const parts = jwt.split('.')
  return parts.length === 3 && parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p) && p.length % 4 !== 1) &&
    Buffer.from(parts[2] as string, 'base64url').toString('base64url') === parts[2]
}

async function compare (t: Test, alg: string, c: Case, key: CryptoKey): Promise<void> {
  const options = { ...joseOptions(rulesFor(alg, c.options)) }
  const jwt = c.jwt()
  t.ok(strictGrammar(jwt), `${alg} ${c.name}: of the grammar the fast path is given`)
  const fast = await fastVerdict(jwt, key, options)
  const plain = await joseVerdict(jwt, key, options)
  t.equal(plain.ok, c.jose === 'accept', `${alg} ${c.name}: jose ${c.jose}s (the case tests what it says)`)
  t.same({ ok: fast.ok, ...(fast.ok ? { payload: fast.payload } : { error: fast.error }) }, plain, `${alg} ${c.name}: same verdict`)
  if (c.path !== undefined) t.equal(fast.path, c.path, `${alg} ${c.name}: decided by ${c.path}`)
  // In the plugin the fast path reuses decodeCompactJws's reading of the token: same verdict.
  const decoded = strictlyDecoded(jwt)
  if (decoded !== undefined) {
    const withDecoded = await fastVerdict(jwt, key, options, decoded)
    t.same(withDecoded, fast, `${alg} ${c.name}: same verdict from the shared decoding`)
  }
  const rules = rulesFor(alg, c.options)
  const ours = await reason(async () => {
    // A refusal is returned, not thrown (lib/jwt/claims.ts).
    const result = await verifyClaims(jwt, key, rules, 'bearer', decoded)
    if (result instanceof AuthError) throw result
  })
  const reference = await reason(async () => {
    let payload: JWTPayload
    try {
      payload = (await jwtVerify(jwt, key, joseOptions(rules))).payload
    } catch (err) {
      throw mapJoseError(err, 'bearer')
    }
    checkClaims(payload, rules, 'bearer')
  })
  t.equal(ours, reference, `${alg} ${c.name}: same reason (${reference})`)
  if (fast.path === 'fast') {
    // What the fast path decides, verifyClaims answers without a promise (accepted or refused).
    let direct: unknown
    try {
      direct = verifyClaims(jwt, key, rules, 'bearer', decoded)
    } catch (err) {
      direct = err
    }
    t.notOk(direct instanceof Promise, `${alg} ${c.name}: verifyClaims answers synchronously`)
  }
}

for (const alg of ALGORITHMS) {
  t.test(`${alg}: fast path and jose agree on every token`, async (t) => {
    const { own, other } = pairFor(alg)
    const key = await selectKey(own.jwk, alg)
    for (const c of cases(alg, own, other)) await compare(t, alg, c, c.key ?? key)
  })
}

t.test('keys jose refuses: the fast path declines and jose reports them', async (t) => {
  const rsa = pairFor('RS256').own
  const ec = pairFor('ES256').own
  const small = generatePair('RS256', 1024)
  const pss = await selectKey(rsa.jwk, 'PS256')
  const rs = await selectKey(rsa.jwk, 'RS256')
  const p256 = await selectKey(ec.jwk, 'ES256')
  const noVerify = await webcrypto.subtle.importKey('jwk', rsa.jwk as webcrypto.JsonWebKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, []) as CryptoKey
  const { privateKey: privateCryptoKey } = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const hmac = pairFor('HS256').own
  const hs256 = await selectKey(hmac.jwk, 'HS256')
  const hmacSignOnly = await webcrypto.subtle.importKey('raw', Buffer.from(hmac.jwk.k as string, 'base64url'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']) as CryptoKey
  const refused: Array<[string, string, KeyObject, CryptoKey]> = [
    ['RS256 token, RSA-PSS key', 'RS256', rsa.privateKey, pss],
    ['PS256 token, RSASSA key', 'PS256', rsa.privateKey, rs],
    ['RS384 token, RS256 key (hash)', 'RS384', rsa.privateKey, rs],
    ['ES384 token, P-256 key (curve)', 'ES384', pairFor('ES384').own.privateKey, p256],
    ['ES256 token, RSA key (type)', 'ES256', ec.privateKey, rs],
    ['RS256 token, EC key (type)', 'RS256', rsa.privateKey, p256],
    ['EdDSA token, EC key (type)', 'EdDSA', pairFor('EdDSA').own.privateKey, p256],
    ['RS256 with a 1024-bit key', 'RS256', small.privateKey, await selectKey(small.jwk, 'RS256')],
    ['PS256 with a 1024-bit key', 'PS256', small.privateKey, await selectKey(small.jwk, 'PS256')],
    ['key without the verify usage', 'RS256', rsa.privateKey, noVerify],
    ['a private key', 'ES256', ec.privateKey, privateCryptoKey as CryptoKey],
    ['HS256 token, HS384 key (hash)', 'HS256', hmac.privateKey, await selectKey(hmac.jwk, 'HS384')],
    ['HS512 token, HS256 key (hash)', 'HS512', hmac.privateKey, hs256],
    ['HS256 token, RSA key (type)', 'HS256', hmac.privateKey, rs],
    ['RS256 token, HMAC key (type)', 'RS256', rsa.privateKey, hs256],
    ['ES256 token, HMAC key (type)', 'ES256', ec.privateKey, hs256],
    ['HMAC key without the verify usage', 'HS256', hmac.privateKey, hmacSignOnly]
  ]
  for (const [name, alg, signer, key] of refused) {
    await compare(t, alg, { name, jwt: () => token(alg, signer), path: 'jose', jose: 'reject' }, key)
    // A second time: the refusal is remembered per key and algorithm, and still reported by jose.
    await compare(t, alg, { name: `${name} (again)`, jwt: () => token(alg, signer), path: 'jose', jose: 'reject' }, key)
  }
})

t.test('the strict grammar runs first: a padded, badly or non-canonically spelled signature never reaches either verifier', async (t) => {
  const { own } = pairFor('RS256')
  const jwt = token('RS256', own.privateKey)
  for (const bad of [`${jwt}==`, `${jwt}=`, jwt.replace(/\.([^.]*)$/, '.+$1'), `${jwt}.`, `${jwt}AAA`, jwt.slice(0, -1) + (nonCanonical(jwt.split('.')[2] as string) as string).at(-1)]) {
    t.notOk(strictGrammar(bad))
    t.throws(() => decodeCompactJws(bad, 'bearer'), InvalidTokenError)
  }
})

t.test('outside the grammar too: a signature spelled with unused bits set is the same signature to both', async (t) => {
  for (const alg of ['RS256', 'ES256', 'ES384', 'ES512', 'EdDSA']) {
    const { own } = pairFor(alg)
    const key = await selectKey(own.jwk, alg)
    const [h, p, s] = token(alg, own.privateKey).split('.') as [string, string, string]
    const respelled = nonCanonical(s)
    if (respelled === undefined) continue
    const jwt = `${h}.${p}.${respelled}`
    t.not(jwt, `${h}.${p}.${s}`)
    t.same(await fastVerdict(jwt, key, joseOptions(rulesFor(alg))), { ...await joseVerdict(jwt, key, joseOptions(rulesFor(alg))), path: 'fast' }, alg)
  }
})

t.test('signInput covers every family (kit self-check)', async (t) => {
  for (const alg of ALGORITHMS) {
    const { own } = pairFor(alg)
    t.match(signInput(alg, own.privateKey, 'a.b'), /^[A-Za-z0-9_-]+$/, alg)
  }
})
