/**
 * Token exchange against oidc-provider: its own client authentication accepts the plugin's
 * client_secret_post, client_secret_basic and private-key JWT requests, and refuses a wrong secret.
 */
import Fastify from 'fastify'
import { exportJWK, generateKeyPair } from 'jose'
import t from 'tap'
import auth0Plugin, { TokenEndpointError, type ClientOptions } from '../../lib/index.js'
import { FEDERATED, startExchangeProvider, TOKEN_EXCHANGE } from '../fixtures/exchange-provider.js'

const SUBJECT = 'caller-access-token-0123456789'

t.test('oidc-provider authenticates each client method and runs the grants', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const provider = await startExchangeProvider({ subjectToken: SUBJECT, assertionKey: { ...await exportJWK(publicKey), alg: 'ES256', kid: 'api-key-1' } })
  t.teardown(async () => { await provider.close() })

  const clients: Array<[string, ClientOptions]> = [
    ['post-client', { clientId: 'post-client', clientSecret: provider.clientSecret }],
    ['basic-client', { clientId: 'basic-client', clientSecret: provider.clientSecret, authMethod: 'client_secret_basic' }],
    ['jwt-client', { clientId: 'jwt-client', privateKey, privateKeyAlg: 'ES256', privateKeyKid: 'api-key-1' }]
  ]
  for (const [name, client] of clients) {
    const app = Fastify()
    t.teardown(async () => { await app.close() })
    await app.register(auth0Plugin, { issuerBaseURL: provider.issuer, audience: 'https://api.example.com/', env: {}, client })
    const obo = await app.auth0.getTokenOnBehalfOf(SUBJECT, { audience: 'https://downstream.example.com/', scope: 'read:stuff' })
    t.match(obo, { accessToken: new RegExp(`^${name}-`), tokenType: 'Bearer', expiresIn: 300, issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token' }, `${name}: on-behalf-of`)
    const vault = await app.auth0.getAccessTokenForConnection({ connection: 'google-oauth2', accessToken: SUBJECT, loginHint: 'user@example.com' })
    t.match(vault, { accessToken: new RegExp(`^${name}-`), connection: 'google-oauth2', loginHint: 'user@example.com' }, `${name}: Token Vault`)
    const refused = await app.auth0.getTokenOnBehalfOf('someone-else-token-0123456789', { audience: 'https://downstream.example.com/' }).catch((err: unknown) => err)
    t.match(refused, { error: 'invalid_grant', statusCode: 400 }, `${name}: the grant's own error`)
  }
  t.same(provider.received.map((r) => [r.client, r.params.grant_type]), [
    ['post-client', TOKEN_EXCHANGE], ['post-client', FEDERATED], ['post-client', TOKEN_EXCHANGE],
    ['basic-client', TOKEN_EXCHANGE], ['basic-client', FEDERATED], ['basic-client', TOKEN_EXCHANGE],
    ['jwt-client', TOKEN_EXCHANGE], ['jwt-client', FEDERATED], ['jwt-client', TOKEN_EXCHANGE]
  ])
  t.match(provider.received[1]?.params, { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', requested_token_type: 'http://auth0.com/oauth/token-type/federated-connection-access-token', connection: 'google-oauth2', login_hint: 'user@example.com' })
  t.same(provider.serverErrors, [])

  const wrong = Fastify()
  t.teardown(async () => { await wrong.close() })
  await wrong.register(auth0Plugin, { issuerBaseURL: provider.issuer, audience: 'https://api.example.com/', env: {}, client: { clientId: 'post-client', clientSecret: 'wrong-secret-value' } })
  const err = await wrong.auth0.getTokenOnBehalfOf(SUBJECT, { audience: 'https://downstream.example.com/' }).catch((e: unknown) => e)
  t.ok(err instanceof TokenEndpointError)
  t.match(err, { error: 'invalid_client', statusCode: 401 })
  t.notMatch((err as Error).message, 'wrong-secret-value')
})
