/**
 * lib/dpop/checks.ts on its own: `DpopChecks` built from a resolved configuration, given requests
 * as the pipeline builds them and real proofs (lib/testing, real keys and signatures). The token
 * is only a string here (its hash is `ath`) and its claims an object: verifying it is not this
 * module's job. test/dpop/*.test.ts prove the same rules through Fastify.
 */
import t from 'tap'
import { DpopChecks, type PendingProof } from '../../lib/dpop/checks.js'
import { DpopNonces } from '../../lib/dpop/nonce.js'
import { resolveConfig } from '../../lib/config/options.js'
import { AuthError, InvalidDpopProofError, UseDpopNonceError } from '../../lib/errors.js'
import { MemoryReplayStore } from '../../lib/stores/memory-replay.js'
import type { AuthRequest } from '../../lib/http/auth-request.js'
import type { AccessTokenClaims } from '../../lib/types.js'
import type { Auth0PluginOptions } from '../../lib/index.js'
import { dpopKey, proof, type ProofOptions } from '../../lib/testing/index.js'
import { refusal, rejection } from '../helpers/refusal.js'

const URL_ = 'https://api.example.com/r'
const TOKEN = 'token-bound-to-the-key'
const SECRET = 's'.repeat(32)
const key = await dpopKey()

function checks (options: Partial<Auth0PluginOptions> = {}): DpopChecks {
  return new DpopChecks(resolveConfig({ issuerBaseURL: 'https://issuer.example.com/', audience: 'https://api.example.com/', ...options }, {}))
}

function request (dpop: string | string[] | undefined, extra: Partial<AuthRequest> = {}): AuthRequest {
  return { method: 'GET', url: URL_, headers: { authorization: `DPoP ${TOKEN}`, dpop }, authorizationCount: 1, subject: undefined, ...extra }
}

async function proofOf (options: Partial<ProofOptions> = {}): Promise<string> {
  return await proof({ key, url: URL_, accessToken: TOKEN, ...options })
}

// Proofs made before the tests start (each test below is synchronous between its awaits).
const tooOld = await proofOf({ iat: Math.floor(Date.now() / 1000) - 400 })
const noNonce = await proofOf()
const byNonce = new Map<unknown, string>()
for (const bad of [42, null, ['x']]) byNonce.set(JSON.stringify(bad), await proofOf({ claims: { nonce: bad } }))
const withNonce = (nonce: unknown): string => byNonce.get(JSON.stringify(nonce)) as string

/** The claims of a verified token: only `cnf` matters here. */
const claimsOf = (claims: Record<string, unknown>): AccessTokenClaims => claims as unknown as AccessTokenClaims

/** `Class reason: description` of a refusal. */
const seen = (err: AuthError): string => `${err.constructor.name} ${err.reason}: ${err.error_description}`

t.test('a good proof: precheck, then complete with the bound claims', async (t) => {
  const dpop = checks()
  const value = await proofOf({ jti: 'one' })
  const pending = dpop.precheck(request(value), TOKEN)
  t.equal(pending.jti, 'one')
  t.equal(pending.refreshNonce, false)
  t.equal(pending.proof.compact, value)
  t.strictSame(await dpop.complete(pending, claimsOf({ cnf: { jkt: key.jkt } })), { jkt: key.jkt })
  t.ok(dpop.replayStore instanceof MemoryReplayStore, 'the in-memory store by default')
})

t.test('the proof header: one value, trimmed, no comma', async (t) => {
  const dpop = checks()
  const value = await proofOf()
  t.equal(dpop.precheck(request(`  ${value}\t`), TOKEN).proof.compact, value, 'surrounding whitespace trimmed')
  t.equal(dpop.precheck(request([value]), TOKEN).proof.compact, value, 'an array of one value')
  t.equal(dpop.precheck(request(value, { dpopCount: 1 }), TOKEN).proof.compact, value, 'one header line counted')
  const repeated = 'InvalidRequestError dpop_proof_repeated: more than one DPoP header'
  t.equal(seen(refusal(() => dpop.precheck(request([value, value]), TOKEN))), repeated, 'two values')
  t.equal(seen(refusal(() => dpop.precheck(request(value, { dpopCount: 2 }), TOKEN))), repeated, 'two lines counted, one value kept')
  t.equal(seen(refusal(() => dpop.precheck(request([value, value], { dpopCount: 1 }), TOKEN))), repeated, 'one line counted, two values')
  const missing = 'InvalidRequestError dpop_proof_missing: DPoP proof header missing'
  for (const [name, header] of [['absent', undefined], ['empty', ''], ['blank', ' \t '], ['no value', []]] as const) {
    const err = refusal(() => dpop.precheck(request(header as string | string[] | undefined), TOKEN))
    t.equal(seen(err), missing, name)
    t.equal(err.scheme, 'dpop', `${name}: on the DPoP challenge`)
  }
  t.equal(seen(refusal(() => dpop.precheck(request(`${value},${value}`), TOKEN))), 'InvalidRequestError dpop_proof_repeated: more than one DPoP proof', 'two proofs joined by a comma')
  t.equal(seen(refusal(() => dpop.precheck(request(`${value},`), TOKEN))), 'InvalidRequestError dpop_proof_repeated: more than one DPoP proof', 'a trailing comma')
})

t.test('the request URL: targetUrl when given (with publicBaseURL), else the url', async (t) => {
  const based = checks({ publicBaseURL: 'https://public.example.com/api' })
  const value = await proof({ key, url: 'https://public.example.com/api/r', accessToken: TOKEN })
  const asked: Array<string | undefined> = []
  const targetUrl = (base: string | undefined): string => {
    asked.push(base)
    return 'https://public.example.com/api/r'
  }
  t.equal(based.precheck(request(value, { url: '/ignored', targetUrl }), TOKEN).proof.compact, value)
  t.strictSame(asked, ['https://public.example.com/api'], 'targetUrl is given publicBaseURL')
  t.equal(based.precheck(request(value, { url: '/r' }), TOKEN).proof.compact, value, 'a path under publicBaseURL')
  t.equal(seen(refusal(() => based.precheck(request(value, { url: '/other' }), TOKEN))), 'InvalidDpopProofError proof_htu_mismatch: DPoP proof htu does not match the request URL')
  t.equal(seen(refusal(() => checks().precheck(request(value, { url: 'ws://api.example.com/r' }), TOKEN))), 'InvalidRequestError request_url_invalid: request URL is not an absolute http(s) URL', 'the URL before the proof')
})

t.test('publicBaseURL must need no further percent-encoding', async (t) => {
  t.throws(() => checks({ publicBaseURL: 'https://api.example.com/a|b' }), {
    message: 'fastify-auth0-api: publicBaseURL (AUTH0_PUBLIC_BASE_URL) must be an http(s) URL whose host and path need no further percent-encoding'
  })
  t.doesNotThrow(() => checks({ publicBaseURL: 'https://api.example.com/a/b' }))
})

t.test('claims against the request: method, ath, and the configured iat window', async (t) => {
  const dpop = checks({ dpop: { iatOffset: 10, iatLeeway: 2 } })
  const now = Math.floor(Date.now() / 1000)
  const future = await proofOf({ iat: now + 10 })
  const fine = await proofOf()
  t.equal(seen(refusal(() => dpop.precheck(request(tooOld), TOKEN))), 'InvalidDpopProofError proof_iat_too_old: DPoP proof iat too old')
  t.equal(seen(refusal(() => dpop.precheck(request(future), TOKEN))), 'InvalidDpopProofError proof_iat_in_future: DPoP proof iat in the future')
  t.equal(dpop.precheck(request(await proofOf({ iat: now - 5 })), TOKEN).refreshNonce, false, 'inside the window')
  t.equal(seen(refusal(() => dpop.precheck(request(fine, { method: 'POST' }), TOKEN))), 'InvalidDpopProofError proof_htm_mismatch: DPoP proof htm does not match the request method')
  t.equal(seen(refusal(() => dpop.precheck(request(fine), 'another-token'))), 'InvalidDpopProofError proof_ath_mismatch: DPoP proof ath does not match the access token')
  t.equal(seen(refusal(() => checks().precheck(request(tooOld), TOKEN))), 'InvalidDpopProofError proof_iat_too_old: DPoP proof iat too old', 'default window: 300 s')
  t.equal(checks().precheck(request(await proofOf({ iat: now - 290 })), TOKEN).jti.length > 0, true, 'default window: 290 s old is fine')
  t.equal(seen(refusal(() => checks({ dpop: { algorithms: ['RS256'] } }).precheck(request(fine), TOKEN))), 'InvalidDpopProofError proof_alg_not_allowed: DPoP proof algorithm not allowed', 'the configured algorithms')
})

t.test('nonces', async (t) => {
  const dpop = checks({ dpop: { nonce: { secret: SECRET, windowSeconds: 60 } } })
  const nonces = new DpopNonces({ secret: SECRET, windowSeconds: 60 })
  const previous = new DpopNonces({ secret: SECRET, windowSeconds: 60 }, () => Date.now() - 60_000).current()
  const current = nonces.current()

  const missing = refusal(() => dpop.precheck(request(noNonce), TOKEN))
  t.equal(seen(missing), 'UseDpopNonceError nonce_missing: DPoP proof must carry the current server nonce')
  t.equal((missing as UseDpopNonceError).nonce, current, 'the current nonce handed out')
  const staleProof = await proofOf({ nonce: 'stale' })
  const stale = refusal(() => dpop.precheck(request(staleProof), TOKEN))
  t.equal(seen(stale), 'UseDpopNonceError nonce_stale: DPoP proof must carry the current server nonce')
  t.equal((stale as UseDpopNonceError).nonce, current)
  for (const bad of [42, null, ['x']]) {
    t.equal(seen(refusal(() => dpop.precheck(request(withNonce(bad)), TOKEN))), 'InvalidDpopProofError proof_nonce_invalid: DPoP proof nonce must be a string', JSON.stringify(bad))
  }

  const fresh = dpop.precheck(request(await proofOf({ nonce: current })), TOKEN)
  t.equal(fresh.refreshNonce, false, 'the current nonce')
  t.strictSame(await dpop.complete(fresh, claimsOf({ cnf: { jkt: key.jkt } })), { jkt: key.jkt }, 'no new nonce for the current one')
  const old = dpop.precheck(request(await proofOf({ nonce: previous })), TOKEN)
  t.equal(old.refreshNonce, true, 'the previous window\'s nonce')
  t.strictSame(await dpop.complete(old, claimsOf({ cnf: { jkt: key.jkt } })), { jkt: key.jkt, nonce: current }, 'the current nonce sent back')

  const off = checks()
  t.equal(off.precheck(request(withNonce(42)), TOKEN).refreshNonce, false, 'nonces off: the claim is not looked at')
  t.equal(off.precheck(request(await proofOf({ nonce: 'anything' })), TOKEN).refreshNonce, false)
})

t.test('complete: binding, signature, key, then the replay store', async (t) => {
  const stored: Array<[string, number]> = []
  const store = {
    checkAndRemember: async (k: string, ttl: number): Promise<boolean> => {
      stored.push([k, ttl])
      return stored.filter(([s]) => s === k).length === 1
    }
  }
  const dpop = checks({ dpop: { replayStore: store, iatOffset: 100, iatLeeway: 10 } })
  t.equal(dpop.replayStore, store, 'the configured store')
  const pending = (value: string): PendingProof => dpop.precheck(request(value), TOKEN)
  const good = pending(await proofOf({ jti: 'same' }))

  t.equal(seen(refusal(() => dpop.complete(good, claimsOf({})))), 'InvalidTokenError token_not_bound: DPoP scheme used with a token that is not DPoP-bound')
  t.equal(seen(refusal(() => dpop.complete(good, claimsOf({ cnf: {} })))), 'InvalidTokenError token_not_bound: DPoP scheme used with a token that is not DPoP-bound')
  const other = await dpopKey()
  t.equal(seen(await rejection(() => dpop.complete(good, claimsOf({ cnf: { jkt: other.jkt } })))), 'InvalidTokenError jkt_mismatch: DPoP proof key does not match the token binding (cnf.jkt)')
  t.equal(stored.length, 0, 'nothing stored for a request refused before the replay check')
  const forged = pending(await proof({ key: { ...other, publicJwk: key.publicJwk }, url: URL_, accessToken: TOKEN }))
  t.equal(seen(await rejection(() => dpop.complete(forged, claimsOf({ cnf: { jkt: key.jkt } })))), 'InvalidDpopProofError proof_signature_invalid: DPoP proof signature verification failed')
  t.equal(stored.length, 0, 'nor for a bad signature')

  t.strictSame(await dpop.complete(good, claimsOf({ cnf: { jkt: key.jkt } })), { jkt: key.jkt })
  t.equal(stored.length, 1)
  t.equal(stored[0]?.[1], 111, 'kept iatOffset + iatLeeway + 1 seconds')
  t.match(stored[0]?.[0], new RegExp(`^${key.jkt}\\.`), 'keyed by the thumbprint')
  const replay = await rejection(() => dpop.complete(good, claimsOf({ cnf: { jkt: key.jkt } })))
  t.ok(replay instanceof InvalidDpopProofError)
  t.equal(seen(replay), 'InvalidDpopProofError proof_replayed: DPoP proof replayed')
})
