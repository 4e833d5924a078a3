/**
 * Server-provided DPoP nonces (RFC 9449 §8–9), stateless: the nonce of a time window is
 * base64url(HMAC-SHA256(secret, window number)). Nothing is stored, and several instances sharing
 * the secret accept each other's nonces. The nonce of the current window and of the previous one
 * are accepted, so a nonce lives between one and two windows; a client still using the previous
 * window's nonce is handed the current one on success, before its nonce runs out.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export interface NonceOptions {
  /** Shared by every instance that must accept the same nonces; at least 32 bytes. Default: random. */
  secret?: string | Uint8Array
  windowSeconds: number
}

/** `current`: fine; `previous`: accepted, but send the current one; `undefined`: refuse. */
export type NonceCheck = 'current' | 'previous' | undefined

export class DpopNonces {
  readonly #secret: Uint8Array
  readonly #windowMs: number
  readonly #now: () => number
  #memo = { window: NaN, nonce: '' }

  constructor (options: NonceOptions, now: () => number = Date.now) {
    const secret = options.secret === undefined
      ? randomBytes(32)
      : typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret
    if (!(secret instanceof Uint8Array) || secret.length < 32) {
      throw new Error('fastify-auth0-api: dpop.nonce.secret must be a string or Uint8Array of at least 32 bytes')
    }
    this.#secret = secret
    this.#windowMs = options.windowSeconds * 1000
    this.#now = now
  }

  #window (): number {
    return Math.floor(this.#now() / this.#windowMs)
  }

  #hmac (window: number): string {
    return createHmac('sha256', this.#secret).update(`fastify-auth0-api dpop-nonce ${window}`).digest('base64url')
  }

  /** The nonce of the current window, computed once per window. */
  #nonceOf (window: number): string {
    if (this.#memo.window !== window) this.#memo = { window, nonce: this.#hmac(window) }
    return this.#memo.nonce
  }

  /** The nonce to hand out now. */
  current (): string {
    return this.#nonceOf(this.#window())
  }

  check (nonce: string): NonceCheck {
    const window = this.#window()
    if (same(nonce, this.#nonceOf(window))) return 'current'
    return same(nonce, this.#hmac(window - 1)) ? 'previous' : undefined
  }
}

function same (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
