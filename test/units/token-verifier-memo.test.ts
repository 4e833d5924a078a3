/**
 * The key memo of lib/jwt/token-verifier.ts: jose selects the key of a token once per key-set
 * version, algorithm and `kid`, and every later token of that key skips the selection. The
 * verdicts are the same with or without it (test/core/algorithms-and-keys.test.ts pins them); this
 * file pins the work it saves. The key source is jose's own selection (`createLocalJWKSet` over
 * real keys) behind a counter that passes every call through; tokens are really signed.
 */
import t from 'tap'
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWSHeaderParameters } from 'jose'
import { resolveConfig } from '../../lib/config/options.js'
import { AuthError } from '../../lib/errors.js'
import { TokenVerifier } from '../../lib/jwt/token-verifier.js'
import { IssuerPolicy } from '../../lib/keys/issuer-policy.js'
import type { KeySource, VerificationKeys } from '../../lib/keys/key-source.js'
import type { Auth0Env } from '../../lib/config/env.js'
import type { Auth0PluginOptions } from '../../lib/index.js'
import type { AuthRequest } from '../../lib/http/auth-request.js'

const ISSUER = 'https://tenant.example.com/'
const AUDIENCE = 'https://api.example.com/'

/** A key set of jose's selection that counts the selections it is asked for. */
class CountingKeys implements VerificationKeys {
  readonly issuer = ISSUER
  version = 1
  readonly fresh = true
  selections = 0
  #select: ReturnType<typeof createLocalJWKSet>

  constructor (jwks: JSONWebKeySet) {
    this.#select = createLocalJWKSet(jwks)
  }

  /** Another key set (a rotation): a new version, as the registry gives one. */
  replace (jwks: JSONWebKeySet): void {
    this.#select = createLocalJWKSet(jwks)
    this.version++
  }

  async getKey (header: JWSHeaderParameters): Promise<CryptoKey> {
    this.selections++
    return await this.#select(header)
  }

  reportUnusable (): void {}
}

const pairs = await Promise.all(['a', 'b'].map(async (kid) => ({ kid, ...await generateKeyPair('ES256') })))
const publicJwk = async (kid: string | undefined, key: CryptoKey): Promise<Record<string, unknown>> =>
  ({ ...await exportJWK(key), ...(kid === undefined ? {} : { kid }), alg: 'ES256', use: 'sig' })

async function token (kid: string | undefined, sub: string): Promise<string> {
  const pair = pairs.find((p) => p.kid === (kid ?? 'a')) as (typeof pairs)[number]
  return await new SignJWT({ sub })
    .setProtectedHeader(kid === undefined ? { alg: 'ES256' } : { alg: 'ES256', kid })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m')
    .sign(pair.privateKey)
}

/** A token verifier over `keys`, the verified-token cache off (each token is verified in full): the sub, or the refusal's reason. */
function verifierOver (keys: CountingKeys): (jwt: string) => Promise<string> {
  const config = resolveConfig({ issuerBaseURL: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], tokenCache: false } as Auth0PluginOptions, {} as Auth0Env)
  const source: KeySource = { keysFor: () => keys }
  const verifier = new TokenVerifier(config, source, new IssuerPolicy(config))
  return async (jwt) => {
    const request = { headers: {}, method: 'GET', url: '/', authorizationCount: 1, subject: undefined } as unknown as AuthRequest
    try {
      const result = await verifier.verify(jwt, request, 'bearer')
      return result instanceof AuthError ? result.reason : result.sub
    } catch (err) {
      if (err instanceof AuthError) return err.reason
      throw err
    }
  }
}

t.test('one selection per kid: later tokens of the same key skip it, alternating kids keep both', async (t) => {
  const keys = new CountingKeys({ keys: [await publicJwk('a', pairs[0]!.publicKey), await publicJwk('b', pairs[1]!.publicKey)] } as JSONWebKeySet)
  const verify = verifierOver(keys)
  const steps: Array<[string, string, number]> = [['a', 'u1', 1], ['a', 'u2', 1], ['b', 'u3', 2], ['a', 'u4', 2], ['b', 'u5', 2], ['a', 'u6', 2]]
  for (const [kid, sub, selections] of steps) {
    t.equal(await verify(await token(kid, sub)), sub, `kid ${kid}: verified`)
    t.equal(keys.selections, selections, `kid ${kid}, token of ${sub}: ${selections} selection(s) in all`)
  }
})

t.test('a token without kid is remembered too (one key in the set)', async (t) => {
  const keys = new CountingKeys({ keys: [await publicJwk(undefined, pairs[0]!.publicKey)] } as JSONWebKeySet)
  const verify = verifierOver(keys)
  t.equal(await verify(await token(undefined, 'u1')), 'u1')
  t.equal(await verify(await token(undefined, 'u2')), 'u2')
  t.equal(keys.selections, 1)
})

t.test('a new key-set version selects again, once, and is then remembered', async (t) => {
  const jwks = { keys: [await publicJwk('a', pairs[0]!.publicKey)] } as JSONWebKeySet
  const keys = new CountingKeys(jwks)
  const verify = verifierOver(keys)
  t.equal(await verify(await token('a', 'u1')), 'u1')
  t.equal(keys.selections, 1)
  keys.replace(jwks)
  t.equal(await verify(await token('a', 'u2')), 'u2')
  t.equal(keys.selections, 2, 'selected again under the new version')
  t.equal(await verify(await token('a', 'u3')), 'u3')
  t.equal(keys.selections, 2, 'remembered under the new version')
  keys.replace({ keys: [await publicJwk('b', pairs[1]!.publicKey)] } as JSONWebKeySet)
  t.equal(await verify(await token('a', 'u4')), 'kid_not_found', 'a kid the new set lacks is not served from the old one')
})
