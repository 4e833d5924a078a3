/**
 * The `secret` option / AUTH0_SIGNING_SECRET (SPEC §9): an Auth0 API set to HS256 signs with its
 * signing secret, used as-is (a string's UTF-8 bytes, or the bytes given). With a secret the
 * verifier is HMAC-only (lib/keys/secret-keys.ts): these checks refuse, at start-up, a secret too
 * short for its algorithms and any algorithm that is not HMAC.
 */
const PREFIX = 'fastify-auth0-api: '

/** HMAC algorithms and the hash length in bytes, the shortest secret each accepts (RFC 7518 §3.2). */
export const HMAC_ALGORITHMS: ReadonlyMap<string, number> = new Map([['HS256', 32], ['HS384', 48], ['HS512', 64]])

function fail (message: string): never {
  throw new Error(PREFIX + message)
}

export interface ResolvedSecret {
  bytes: Uint8Array
  /** Where it came from, for start-up messages: `secret` or `AUTH0_SIGNING_SECRET`. */
  name: string
}

/** The secret from the option, else from `AUTH0_SIGNING_SECRET`; `undefined` when neither is set. */
export function resolveSecret (option: unknown, env: string | undefined): ResolvedSecret | undefined {
  if (option !== undefined) {
    if (typeof option === 'string') return { bytes: new TextEncoder().encode(option), name: 'secret' }
    if (option instanceof Uint8Array) return { bytes: Uint8Array.from(option), name: 'secret' }
    fail('secret must be a string (used as its UTF-8 bytes) or a Buffer / Uint8Array')
  }
  return env === undefined ? undefined : { bytes: new TextEncoder().encode(env), name: 'AUTH0_SIGNING_SECRET' }
}

/**
 * The algorithms of a verifier with a secret: `['HS256']` by default, HMAC only, each no longer
 * than the secret (a key shorter than the hash is refused by RFC 7518 §3.2).
 */
export function hmacAlgorithms (value: unknown, secret: ResolvedSecret): string[] {
  const list = value === undefined ? ['HS256'] : value
  if (!Array.isArray(list) || list.length === 0 || list.some((alg) => typeof alg !== 'string')) fail('algorithms must be a non-empty array of algorithm names')
  for (const alg of list as string[]) {
    if (!HMAC_ALGORITHMS.has(alg)) {
      fail(`algorithms must hold only HS256, HS384 or HS512 when ${secret.name} is set, not "${alg}": an HMAC verifier never accepts another kind of token (remove ${secret.name}, or the other algorithms)`)
    }
    const needed = HMAC_ALGORITHMS.get(alg) as number
    if (secret.bytes.length < needed) {
      fail(`${secret.name} is ${secret.bytes.length} bytes: ${alg} needs a secret of at least ${needed} bytes (its hash length, RFC 7518 §3.2)`)
    }
  }
  return [...new Set(list as string[])]
}
