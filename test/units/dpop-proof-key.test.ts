/**
 * lib/dpop/proof-key.ts on its own: RFC 7638 thumbprints (jose's `calculateJwkThumbprint` as the
 * witness), the key id that decides which proof keys are imported once and kept, and the cache
 * itself. test/perf/dpop-differential.test.ts proves the signatures against plain jose.
 */
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, type CryptoKey, type JWK } from 'jose'
import { jwkThumbprint, proofKey, proofKeyId } from '../../lib/dpop/proof-key.js'

const jwkOf = (pair: { publicKey: { export: (o: { format: 'jwk' }) => unknown } }): Record<string, unknown> => pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>
const EC = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }))
const OKP = jwkOf(generateKeyPairSync('ed25519'))
const RSA = jwkOf(generateKeyPairSync('rsa', { modulusLength: 2048 }))

t.test('thumbprints: RFC 7638 members of each key type, each required', async (t) => {
  for (const [name, jwk, members] of [['EC', EC, ['crv', 'kty', 'x', 'y']], ['OKP', OKP, ['crv', 'kty', 'x']], ['RSA', RSA, ['e', 'kty', 'n']]] as const) {
    t.equal(jwkThumbprint({ ...jwk }), await calculateJwkThumbprint(jwk as JWK), name)
    for (const member of members) {
      t.equal(jwkThumbprint({ ...jwk, [member]: undefined }), undefined, `${name} without ${member}`)
      t.equal(jwkThumbprint({ ...jwk, [member]: 7 }), undefined, `${name} with ${member} not a string`)
    }
  }
  t.equal(jwkThumbprint({ ...EC, kty: 'oct' }), undefined, 'a key type without members')
  t.equal(jwkThumbprint({ kty: 'RSA', n: 'n', e: 'e' }), await calculateJwkThumbprint({ kty: 'RSA', n: 'n', e: 'e' }), 'RFC 7638 canonical JSON, whatever the values')
  // The first answer for an object is remembered: the same object gets the same answer.
  const same = { ...EC }
  t.equal(jwkThumbprint(same), jwkThumbprint(same))
})

t.test('key ids: alg and thumbprint, only for JWKs of thumbprint members (and alg)', async (t) => {
  const thumbprint = await calculateJwkThumbprint(EC as JWK)
  t.equal(proofKeyId({ ...EC }, 'ES256'), `ES256 ${thumbprint}`)
  t.equal(proofKeyId({ ...EC, alg: 'ES256' }, 'ES256'), `ES256 ${thumbprint}`, 'alg may be there')
  for (const extra of ['kid', 'use', 'key_ops', 'ext', 'x5c']) {
    t.equal(proofKeyId({ ...EC, [extra]: 'x' }, 'ES256'), undefined, `no id with ${extra}`)
  }
  t.equal(proofKeyId({ ...EC, kty: 'oct' }, 'ES256'), undefined, 'unknown key type')
  t.equal(proofKeyId({ ...EC, x: 5 }, 'ES256'), undefined, 'a member not a string')
  t.equal(proofKeyId({ ...RSA }, 'PS256'), `PS256 ${await calculateJwkThumbprint(RSA as JWK)}`)
  t.equal(proofKeyId({ ...OKP }, 'EdDSA'), `EdDSA ${await calculateJwkThumbprint(OKP as JWK)}`)

  // A frozen JWK (a remembered proof header's) has its id remembered, per algorithm.
  const frozen = Object.freeze({ ...RSA })
  t.equal(proofKeyId(frozen, 'RS256'), `RS256 ${await calculateJwkThumbprint(RSA as JWK)}`)
  t.equal(proofKeyId(frozen, 'PS256'), `PS256 ${await calculateJwkThumbprint(RSA as JWK)}`, 'another algorithm, another id')
  t.equal(proofKeyId(frozen, 'RS256'), `RS256 ${await calculateJwkThumbprint(RSA as JWK)}`)
  // An object that can still change is not remembered: its id is computed again.
  const open = { ...EC } as Record<string, unknown>
  t.equal(proofKeyId(open, 'ES256'), `ES256 ${thumbprint}`)
  open.kid = 'added later'
  t.equal(proofKeyId(open, 'ES256'), undefined, 'a member added since: no id any more')
  const frozenOdd = Object.freeze({ ...EC, kid: 'k' })
  t.equal(proofKeyId(frozenOdd, 'ES256'), undefined)
  t.equal(proofKeyId(frozenOdd, 'ES256'), undefined, 'no id, remembered')
})

t.test('proofKey: imported once per (alg, thumbprint), none for a JWK left to jose', async (t) => {
  const first = await proofKey({ ...EC }, 'ES256')
  t.ok(first !== undefined, 'imported')
  t.equal((first as CryptoKey).type, 'public')
  t.strictSame((first as CryptoKey).usages, ['verify'])
  t.equal((first as CryptoKey).extractable, true)
  const again = proofKey({ ...EC, alg: 'ES256' }, 'ES256')
  t.equal(again, first, 'known: the same key, synchronously (no promise)')
  t.equal(await proofKey({ ...EC, kid: 'k' }, 'ES256'), undefined, 'another member: for jose')
  const rsa = await proofKey({ ...RSA }, 'RS256')
  const pss = await proofKey({ ...RSA }, 'PS256')
  t.not(rsa, pss, 'one key per algorithm')
  t.equal((pss as CryptoKey).algorithm.name, 'RSA-PSS')
  t.equal((rsa as CryptoKey).algorithm.name, 'RSASSA-PKCS1-v1_5')
  await t.rejects(async () => await proofKey({ ...EC, y: EC.x as string }, 'ES256'), 'a point off the curve: the import rejects')
})
