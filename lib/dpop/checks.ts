/**
 * DPoP for one verifier, in the two places the pipeline calls it (lib/verifier.ts):
 * - `precheck` (SPEC §3 step 2, before the token is decoded): request URL (Host and proxy headers
 *   first), exactly one proof header, then every local check of the proof and the nonce;
 * - `complete` (step 7, once the token verified): the token is bound, the proof signature, the
 *   binding to `cnf.jkt`, and last the replay store, so only a request valid in every other way
 *   uses up its `jti`.
 */
import { InvalidDpopProofError, InvalidRequestError, UseDpopNonceError } from '../errors.js'
import type { ResolvedConfig } from '../config/options.js'
import type { ReplayStore } from '../stores/types.js'
import type { AccessTokenClaims } from '../types.js'
import type { AuthRequest } from '../http/auth-request.js'
import { accessTokenHash, matchBinding, requireBinding } from './binding.js'
import { normalizeHttpUrl, verifyRequestUrl } from './htu.js'
import { MemoryReplayStore } from '../stores/memory-replay.js'
import { DpopNonces } from './nonce.js'
import { checkProofClaims, decodeProof, verifyProofSignature, type DecodedProof } from './proof.js'
import { ReplayGuard } from './replay.js'
import { then, type MaybePromise } from '../util/maybe-async.js'

/** A proof that passed the local checks, waiting for the token. */
export interface PendingProof {
  proof: DecodedProof
  jti: string
  /** The proof carried the previous window's nonce: send the current one with the response. */
  refreshNonce: boolean
}

export interface DpopOutcome {
  /** Thumbprint of the proof key (= `cnf.jkt`). */
  jkt: string
  /** A fresh `DPoP-Nonce` for the response, when the client's is about to expire. */
  nonce?: string
}

function badRequest (reason: string, description: string): InvalidRequestError {
  return new InvalidRequestError(reason, description, { scheme: 'dpop' })
}

export class DpopChecks {
  readonly #algorithms: readonly string[]
  readonly #iatOffset: number
  readonly #iatLeeway: number
  readonly #publicBaseURL: string | undefined
  readonly #nonces: DpopNonces | undefined
  readonly #replay: ReplayGuard
  /** The store in use (the default in-memory one unless `dpop.replayStore` was given). */
  readonly replayStore: ReplayStore

  constructor (config: ResolvedConfig) {
    const { dpop, publicBaseURL } = config
    if (publicBaseURL !== undefined && normalizeHttpUrl(publicBaseURL + '/') === undefined) {
      throw new Error('fastify-auth0-api: publicBaseURL (AUTH0_PUBLIC_BASE_URL) must be an http(s) URL whose host and path need no further percent-encoding')
    }
    this.#algorithms = dpop.algorithms
    this.#iatOffset = dpop.iatOffset
    this.#iatLeeway = dpop.iatLeeway
    this.#publicBaseURL = publicBaseURL
    this.#nonces = dpop.nonce === false ? undefined : new DpopNonces(dpop.nonce)
    this.replayStore = dpop.replayStore ?? new MemoryReplayStore()
    this.#replay = new ReplayGuard(this.replayStore, dpop.iatOffset + dpop.iatLeeway, config.timeout)
  }

  precheck (request: AuthRequest, token: string): PendingProof {
    // The URL first: a bad Host or proxy header is refused before anything else is read.
    const url = request.targetUrl !== undefined
      ? request.targetUrl(this.#publicBaseURL)
      : verifyRequestUrl(request.url, this.#publicBaseURL)

    const header = request.headers.dpop
    const values = Array.isArray(header) ? header : header === undefined ? [] : [header]
    if (Math.max(request.dpopCount ?? 0, values.length) > 1) throw badRequest('dpop_proof_repeated', 'more than one DPoP header')
    const value = (values[0] ?? '').trim()
    if (value === '') throw badRequest('dpop_proof_missing', 'DPoP proof header missing')
    // Node joins repeated header lines with ", "; a compact JWS never contains a comma.
    if (value.includes(',')) throw badRequest('dpop_proof_repeated', 'more than one DPoP proof')

    const proof = decodeProof(value, this.#algorithms)
    checkProofClaims(proof.payload, {
      method: request.method,
      url,
      ath: accessTokenHash(token),
      now: Date.now() / 1000,
      iatOffset: this.#iatOffset,
      iatLeeway: this.#iatLeeway
    })

    let refreshNonce = false
    if (this.#nonces !== undefined) {
      const nonce = proof.payload.nonce
      if (nonce !== undefined && typeof nonce !== 'string') throw new InvalidDpopProofError('proof_nonce_invalid', 'DPoP proof nonce must be a string')
      const state = nonce === undefined ? undefined : this.#nonces.check(nonce)
      if (state === undefined) {
        throw new UseDpopNonceError(nonce === undefined ? 'nonce_missing' : 'nonce_stale', 'DPoP proof must carry the current server nonce', this.#nonces.current())
      }
      refreshNonce = state === 'previous'
    }
    return { proof, jti: proof.payload.jti as string, refreshNonce }
  }

  /** Synchronous (returns or throws) when the proof key is known and the replay store answers at once. */
  complete (pending: PendingProof, claims: AccessTokenClaims): MaybePromise<DpopOutcome> {
    const bound = requireBinding(claims)
    return then(verifyProofSignature(pending.proof), () => {
      const jkt = matchBinding(bound, pending.proof.jwk)
      return then(this.#replay.checkNow(jkt, pending.jti), (): DpopOutcome =>
        pending.refreshNonce ? { jkt, nonce: (this.#nonces as DpopNonces).current() } : { jkt })
    })
  }
}
