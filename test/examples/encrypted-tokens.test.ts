/**
 * examples/encrypted-tokens: encrypted tokens decrypted with the configured key and verified with
 * the issuer's JWKS; plain tokens refused (`required: true`).
 */
import { createTestIssuer, decryptionKeyPair } from 'fastify-auth0-api/testing'
import t from 'tap'
import { buildEncryptedTokens } from '../../examples/encrypted-tokens/index.js'

t.test('encrypted tokens only', async (t) => {
  const issuer = await createTestIssuer()
  const pair = decryptionKeyPair({ kid: 'enc-1' })
  const app = await buildEncryptedTokens([{ privateKey: pair.privateKeyPem, kid: 'enc-1' }], { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })
  const call = async (token: string): Promise<{ status: number, body: unknown }> => {
    const res = await app.inject({ url: '/api/private', headers: { authorization: `Bearer ${token}` } })
    return { status: res.statusCode, body: res.json() }
  }
  t.same(await call(await issuer.token({ sub: 'auth0|enc' }, { encrypt: { publicKey: pair.publicKeyPem, kid: 'enc-1' } })), { status: 200, body: { user: 'auth0|enc' } })
  t.same(await call(await issuer.token()), { status: 401, body: { detail: { error: 'invalid_token', error_description: 'access token must be encrypted (JWE)' } } })
  const other = decryptionKeyPair()
  t.same(await call(await issuer.token({}, { encrypt: { publicKey: other.publicKey, kid: 'enc-1' } })), { status: 401, body: { detail: { error: 'invalid_token', error_description: 'access token could not be decrypted' } } })
})
