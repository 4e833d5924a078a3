/**
 * The key of a DPoP proof, imported once per distinct JWK: jose's `importJWK` (the import jose's
 * `EmbeddedJWK` makes) behind a bounded LRU keyed by algorithm and RFC 7638 thumbprint, so that
 * the proof signature can take the fast path of lib/jwt/fast-verify.ts. Only a JWK made of
 * exactly the members its thumbprint covers (plus an `alg`, which decodeProof checked) is cached:
 * any other member (`use`, `key_ops`, `ext` …) can change what jose does with it, so such a proof
 * goes to jose unchanged.
 */
import { hash } from 'node:crypto'
import { importJWK, type CryptoKey, type JWK } from 'jose'
import { LruCache } from '../stores/lru.js'
import type { MaybePromise } from '../util/maybe-async.js'

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const MEMBERS = new Map<unknown, string[]>([['EC', ['crv', 'kty', 'x', 'y']], ['OKP', ['crv', 'kty', 'x']], ['RSA', ['e', 'kty', 'n']]])

const keys = new LruCache<string, CryptoKey>({ maxEntries: 1000 })

/**
 * RFC 7638 SHA-256 thumbprint with node:crypto (jose's `calculateJwkThumbprint` goes through
 * WebCrypto's asynchronous digest); `undefined` when a required member is not a string, for jose
 * to judge.
 */
export function jwkThumbprint (jwk: Record<string, unknown>): string | undefined {
  // Asked twice per proof (the key cache, then the `cnf.jkt` match) for the same parsed object.
  if (thumbprints.has(jwk)) return thumbprints.get(jwk)
  const thumbprint = computeThumbprint(jwk)
  thumbprints.set(jwk, thumbprint)
  return thumbprint
}

const thumbprints = new WeakMap<Record<string, unknown>, string | undefined>()

function computeThumbprint (jwk: Record<string, unknown>): string | undefined {
  const members = MEMBERS.get(jwk.kty)
  if (members === undefined) return undefined
  const canonical: Record<string, string> = {}
  for (const name of members) {
    const value = jwk[name]
    if (typeof value !== 'string') return undefined
    canonical[name] = value
  }
  return hash('sha256', JSON.stringify(canonical), 'base64url')
}

/** `alg` and the thumbprint; `undefined` for a JWK with any member the thumbprint does not cover. */
export function proofKeyId (jwk: Record<string, unknown>, alg: string): string | undefined {
  // The same (remembered, frozen) header object comes back with every proof of a client.
  const known = ids.get(jwk)
  if (known !== undefined && known.alg === alg) return known.id
  const id = computeProofKeyId(jwk, alg)
  if (Object.isFrozen(jwk)) ids.set(jwk, { alg, id })
  return id
}

const ids = new WeakMap<Record<string, unknown>, { alg: string, id: string | undefined }>()

function computeProofKeyId (jwk: Record<string, unknown>, alg: string): string | undefined {
  const members = MEMBERS.get(jwk.kty)
  if (members === undefined) return undefined
  for (const name of Object.keys(jwk)) if (name !== 'alg' && !members.includes(name)) return undefined
  const thumbprint = jwkThumbprint(jwk)
  return thumbprint === undefined ? undefined : `${alg} ${thumbprint}`
}

/** The imported key, from the cache or imported now; `undefined` when the proof is for jose alone. */
export function proofKey (jwk: Record<string, unknown>, alg: string): MaybePromise<CryptoKey | undefined> {
  const id = proofKeyId(jwk, alg)
  if (id === undefined) return undefined
  // Known: returned as is (no promise); else imported, which is asynchronous in jose.
  const key = keys.get(id)
  if (key !== undefined) return key
  return importJWK(jwk as JWK, alg, { extractable: true }).then((imported) => {
    keys.set(id, imported as CryptoKey, Infinity)
    return imported as CryptoKey
  })
}
