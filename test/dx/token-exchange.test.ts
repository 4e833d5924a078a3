/**
 * Token exchange from `fastify.auth0` against a real token endpoint on loopback
 * (test/fixtures/token-endpoint.ts): the parameters each grant sends, client authentication by
 * secret (post, basic) and by private-key JWT, discovery, bounded timeouts, typed failures that
 * never carry a token, and the start-up checks of the `client` option.
 */
import { createPrivateKey } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import t, { type Test } from 'tap'
import auth0Plugin, { TokenEndpointError, type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { startTokenEndpoint, type TokenEndpoint } from '../fixtures/token-endpoint.js'

const AUDIENCE = 'https://api.example.com/'
const USER_TOKEN = 'user-access-token-0123456789'

async function app (t: Test, options: Partial<Auth0PluginOptions>): Promise<FastifyInstance> {
  const instance = Fastify()
  t.teardown(async () => { await instance.close() })
  await instance.register(auth0Plugin, { issuerBaseURL: 'https://tenant.example.com/', audience: AUDIENCE, env: {}, ...options })
  await instance.ready()
  return instance
}

async function endpoint (t: Test, options: Parameters<typeof startTokenEndpoint>[0] = {}): Promise<TokenEndpoint> {
  const server = await startTokenEndpoint({ subjectTokens: [USER_TOKEN], ...options })
  t.teardown(async () => { await server.close() })
  return server
}

async function rejection (promise: Promise<unknown>): Promise<TokenEndpointError> {
  try {
    await promise
  } catch (err) {
    return err as TokenEndpointError
  }
  throw new Error('expected a rejection')
}

t.test('getTokenOnBehalfOf: RFC 8693 access token → access token, client_secret_post, discovery once', async (t) => {
  const server = await endpoint(t)
  const api = await app(t, { client: { clientId: server.clientId, clientSecret: server.clientSecret, issuer: server.issuer } })
  const before = Math.floor(Date.now() / 1000)
  const result = await api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/', scope: 'read:stuff' })
  t.match(result.accessToken, /^obo-[0-9a-f]{16}$/)
  t.same({ ...result, accessToken: 'x', expiresAt: 0 }, {
    accessToken: 'x', tokenType: 'Bearer', expiresIn: 600, expiresAt: 0, scope: 'read:stuff',
    issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token'
  }, 'the string expires_in is read as a number; no refresh or ID token is handed out')
  t.ok(result.expiresAt !== undefined && result.expiresAt >= before + 600 && result.expiresAt <= before + 601)
  const [sent] = server.requests
  t.same(sent?.params, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: USER_TOKEN,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience: 'https://downstream.example.com/',
    scope: 'read:stuff',
    client_id: server.clientId,
    client_secret: server.clientSecret
  })
  t.equal(sent?.headers['content-type'], 'application/x-www-form-urlencoded')
  t.equal(sent?.headers.authorization, undefined)

  const [a, b] = await Promise.all([
    api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/' }),
    api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/' })
  ])
  t.not(a.accessToken, b.accessToken)
  t.equal(a.scope, undefined, 'no scope requested, none returned')
  t.equal(server.discoveryRequests, 1, 'the token endpoint is discovered once and remembered')
})

t.test('client_secret_basic: form-urlencoded parts in the Basic header, no secret in the body', async (t) => {
  const secret = 'se:cr et+/%é'
  const server = await endpoint(t, { clientId: 'api client', clientSecret: secret })
  const api = await app(t, { client: { clientId: 'api client', clientSecret: secret, authMethod: 'client_secret_basic', tokenEndpoint: server.tokenEndpoint } })
  const result = await api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/' })
  t.match(result.accessToken, /^obo-/)
  const sent = server.requests[0]
  t.match(sent?.headers.authorization, /^Basic /)
  t.equal(Buffer.from((sent?.headers.authorization as string).slice(6), 'base64').toString(), 'api+client:se%3Acr+et%2B%2F%25%C3%A9')
  t.notOk('client_secret' in (sent?.params ?? {}))
  t.notOk('client_id' in (sent?.params ?? {}))
  t.equal(server.discoveryRequests, 0, 'an explicit tokenEndpoint skips discovery')
})

t.test('private-key JWT client assertion (RFC 7523): PEM, JWK with kid, CryptoKey and KeyObject', async (t) => {
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const ec = await generateKeyPair('ES256', { extractable: true })
  const pem = await exportPKCS8(rsa.privateKey)
  const cases: Array<{ name: string, publicJwk: object, client: NonNullable<Auth0PluginOptions['client']>, kid?: string, alg: string }> = [
    { name: 'PKCS#8 PEM, RS256 default', publicJwk: { ...await exportJWK(rsa.publicKey), alg: 'RS256' }, client: { privateKey: pem }, alg: 'RS256' },
    { name: 'private JWK, its kid', publicJwk: { ...await exportJWK(ec.publicKey), alg: 'ES256' }, client: { privateKey: { ...await exportJWK(ec.privateKey), kid: 'key-1' }, privateKeyAlg: 'ES256' }, kid: 'key-1', alg: 'ES256' },
    { name: 'CryptoKey, explicit kid', publicJwk: { ...await exportJWK(ec.publicKey), alg: 'ES256' }, client: { privateKey: ec.privateKey, privateKeyAlg: 'ES256', privateKeyKid: 'key-2' }, kid: 'key-2', alg: 'ES256' },
    { name: 'private JWK without kid', publicJwk: { ...await exportJWK(rsa.publicKey), alg: 'RS256' }, client: { privateKey: await exportJWK(rsa.privateKey) }, alg: 'RS256' },
    { name: 'KeyObject', publicJwk: { ...await exportJWK(rsa.publicKey), alg: 'RS256' }, client: { privateKey: createPrivateKey(pem) }, alg: 'RS256' }
  ]
  for (const c of cases) {
    const server = await endpoint(t, { clientId: 'pkjwt-client', assertionKey: c.publicJwk })
    const api = await app(t, { client: { clientId: 'pkjwt-client', issuer: server.issuer, ...c.client } })
    await api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/' })
    await api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/' })
    t.equal(server.requests.length, 2, `${c.name}: two exchanges accepted (a fresh jti each time)`)
    const params = server.requests[0]?.params ?? {}
    t.equal(params.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    t.equal(params.client_id, 'pkjwt-client')
    t.notOk('client_secret' in params)
    const header = decodeProtectedHeader(params.client_assertion as string)
    t.same(header, { alg: c.alg, typ: 'JWT', ...(c.kid !== undefined ? { kid: c.kid } : {}) }, `${c.name}: header`)
    const claims = decodeJwt(params.client_assertion as string)
    t.equal(claims.iss, 'pkjwt-client')
    t.equal(claims.sub, 'pkjwt-client')
    t.equal(claims.aud, server.issuer, 'audience: the issuer identifier')
    t.equal((claims.exp as number) - (claims.iat as number), 60)
  }

  t.test('a key the server does not know is refused: invalid_client', async (t) => {
    const other = await generateKeyPair('RS256', { extractable: true })
    const server = await endpoint(t, { clientId: 'pkjwt-client', assertionKey: { ...await exportJWK(rsa.publicKey), alg: 'RS256' } })
    const api = await app(t, { client: { clientId: 'pkjwt-client', issuer: server.issuer, privateKey: other.privateKey } })
    const err = await rejection(api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/' }))
    t.ok(err instanceof TokenEndpointError)
    t.equal(err.error, 'invalid_client')
    t.equal(err.statusCode, 401)
  })
})

t.test('getAccessTokenForConnection: Auth0 Token Vault grant', async (t) => {
  const server = await endpoint(t)
  const api = await app(t, { client: { clientId: server.clientId, clientSecret: server.clientSecret, issuer: server.issuer } })
  const result = await api.auth0.getAccessTokenForConnection({ connection: 'google-oauth2', accessToken: USER_TOKEN, loginHint: 'user@example.com' })
  t.match(result, {
    accessToken: /^federated-google-oauth2-/,
    tokenType: 'Bearer',
    expiresIn: 3600,
    scope: 'https://www.googleapis.com/auth/calendar.readonly',
    issuedTokenType: 'http://auth0.com/oauth/token-type/federated-connection-access-token',
    connection: 'google-oauth2',
    loginHint: 'user@example.com'
  })
  t.same(server.requests[0]?.params, {
    grant_type: 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token',
    subject_token: USER_TOKEN,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: 'http://auth0.com/oauth/token-type/federated-connection-access-token',
    connection: 'google-oauth2',
    login_hint: 'user@example.com',
    client_id: server.clientId,
    client_secret: server.clientSecret
  })
  const plain = await api.auth0.getAccessTokenForConnection({ connection: 'google-oauth2', accessToken: USER_TOKEN })
  t.notOk('loginHint' in plain)
  t.notOk('login_hint' in (server.requests[1]?.params ?? {}))

  const unknown = await rejection(api.auth0.getAccessTokenForConnection({ connection: 'github', accessToken: USER_TOKEN }))
  t.match(unknown, { error: 'invalid_request', statusCode: 400, error_description: 'unknown connection' })
  const none = await rejection(api.auth0.getAccessTokenForConnection({ connection: 'google-oauth2', accessToken: USER_TOKEN, loginHint: 'nobody' }))
  t.match(none, { error: 'federated_connection_refresh_token_not_found', statusCode: 401 }, 'Auth0-specific error codes pass through')
})

t.test('getTokenByExchangeProfile: Custom Token Exchange (RFC 8693)', async (t) => {
  const server = await endpoint(t, { subjectTokens: ['legacy-session-0123456789'] })
  const api = await app(t, { client: { clientId: server.clientId, clientSecret: server.clientSecret, issuer: server.issuer } })
  const result = await api.auth0.getTokenByExchangeProfile('legacy-session-0123456789', {
    subjectTokenType: 'urn:acme:legacy-token',
    audience: AUDIENCE,
    scope: 'openid offline_access read:stuff',
    organization: 'org_123',
    requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token'
  })
  t.match(result, {
    accessToken: /^exchanged-/,
    expiresIn: 86400,
    scope: 'openid offline_access read:stuff',
    idToken: 'header.payload.signature',
    refreshToken: 'refresh-token-value',
    issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token#org=org_123'
  })
  t.match(server.requests[0]?.params, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: 'legacy-session-0123456789',
    subject_token_type: 'urn:acme:legacy-token',
    audience: AUDIENCE,
    scope: 'openid offline_access read:stuff',
    organization: 'org_123',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token'
  })
  const bare = await api.auth0.getTokenByExchangeProfile('legacy-session-0123456789', { subjectTokenType: 'urn:acme:legacy-token' })
  t.same(Object.keys(server.requests[1]?.params ?? {}).sort(), ['client_id', 'client_secret', 'grant_type', 'subject_token', 'subject_token_type'], 'optional parameters are left out')
  t.notOk('idToken' in bare || 'refreshToken' in bare)

  const denied = await rejection(api.auth0.getTokenByExchangeProfile('another-token-0123456789', { subjectTokenType: 'urn:acme:legacy-token' }))
  t.match(denied, { error: 'access_denied', statusCode: 403 })
  const noProfile = await rejection(api.auth0.getTokenByExchangeProfile('legacy-session-0123456789', { subjectTokenType: 'urn:acme:unknown' }))
  t.match(noProfile, { error: 'invalid_request', statusCode: 400 })
})

t.test('a route exchanges the verified caller token on behalf of the user', async (t) => {
  const issuer = await createTestIssuer()
  t.teardown(async () => { await issuer.close() })
  const userToken = await issuer.token({ scope: 'read:messages' })
  const server = await endpoint(t, { subjectTokens: [userToken] })
  const api = Fastify()
  t.teardown(async () => { await api.close() })
  await api.register(auth0Plugin, {
    issuerBaseURL: issuer.issuerBaseURL,
    audience: AUDIENCE,
    env: {},
    client: { clientId: server.clientId, clientSecret: server.clientSecret, issuer: server.issuer }
  })
  api.get('/downstream', { preHandler: api.requireAuth('read:messages') }, async (request) => {
    const downstream = await api.auth0.getTokenOnBehalfOf((request.auth as { token: string }).token, { audience: 'https://downstream.example.com/' })
    return { sub: request.claims.sub, downstream: downstream.accessToken.slice(0, 4) }
  })
  const res = await api.inject({ url: '/downstream', headers: { authorization: `Bearer ${userToken}` } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'test-user', downstream: 'obo-' })
  t.equal(server.requests[0]?.params.subject_token, userToken)
})

t.test('failures are TokenEndpointErrors that never carry a token or a secret', async (t) => {
  const server = await endpoint(t)
  const api = await app(t, { client: { clientId: server.clientId, clientSecret: server.clientSecret, issuer: server.issuer, timeout: 300 } })
  const call = async (): Promise<TokenEndpointError> => await rejection(api.auth0.getTokenOnBehalfOf('unknown-user-token-0123456789', { audience: 'https://downstream.example.com/' }))

  const invalid = await call()
  t.ok(invalid instanceof TokenEndpointError && invalid instanceof Error)
  t.equal(invalid.name, 'TokenEndpointError')
  t.equal(invalid.error, 'invalid_grant')
  t.equal(invalid.statusCode, 401)
  t.equal(invalid.error_description, 'subject token [redacted] is invalid', 'the server echoed the token; it is removed')
  t.equal(invalid.message, 'token endpoint answered 401: invalid_grant (subject token [redacted] is invalid)')
  t.notMatch(invalid.message + String(invalid.stack), 'unknown-user-token')

  const cases: Array<[TokenEndpoint['behaviour'], Partial<TokenEndpointError>]> = [
    ['html-500', { error: 'invalid_response', statusCode: 500, error_description: 'not an OAuth error response' }],
    ['bad-json', { error: 'invalid_response', statusCode: 200, error_description: 'answer is not a JSON object' }],
    ['array-body', { error: 'invalid_response', statusCode: 200, error_description: 'answer is not a JSON object' }],
    ['no-access-token', { error: 'invalid_response', statusCode: 200, error_description: 'answer has no access_token' }],
    ['bad-expires-in', { error: 'invalid_response', statusCode: 200, error_description: 'expires_in is not a number of seconds' }],
    ['huge', { error: 'invalid_response', statusCode: 200, error_description: 'token endpoint answer too large' }],
    ['huge-chunked', { error: 'invalid_response', statusCode: 200, error_description: 'token endpoint answer too large' }],
    ['redirect', { error: 'network_error', statusCode: undefined }],
    ['bare-error', { error: 'invalid_scope', statusCode: 400, error_description: undefined, message: 'token endpoint answered 400: invalid_scope' }]
  ]
  for (const [behaviour, expected] of cases) {
    server.behaviour = behaviour
    t.match(await call(), expected, behaviour)
  }

  server.behaviour = 'hang'
  const started = Date.now()
  const timedOut = await call()
  t.match(timedOut, { error: 'timeout', statusCode: undefined, error_description: `no answer within 300 ms ${server.tokenEndpoint}` })
  t.ok(Date.now() - started < 2000, 'bounded by client.timeout')
  t.equal(timedOut.cause instanceof Error, true, 'the fetch failure is kept as the cause')
})

t.test('wrong client credentials: invalid_client', async (t) => {
  const server = await endpoint(t)
  const api = await app(t, { client: { clientId: server.clientId, clientSecret: 'not-the-secret', issuer: server.issuer } })
  const err = await rejection(api.auth0.getAccessTokenForConnection({ connection: 'google-oauth2', accessToken: USER_TOKEN }))
  t.match(err, { error: 'invalid_client', statusCode: 401 })
  t.notMatch(err.message, 'not-the-secret')
})

t.test('an unreachable token endpoint: network_error', async (t) => {
  const server = await startTokenEndpoint()
  const url = server.tokenEndpoint
  await server.close()
  const api = await app(t, { client: { clientId: 'c', clientSecret: 's', tokenEndpoint: url } })
  const err = await rejection(api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/' }))
  t.match(err, { error: 'network_error', statusCode: undefined })
  t.match(err.message, `could not reach ${url}`)
})

t.test('discovery failures are typed, and not remembered', async (t) => {
  const server = await endpoint(t)
  const api = await app(t, { client: { clientId: server.clientId, clientSecret: server.clientSecret, issuer: server.issuer, timeout: 1000 } })
  const call = async (): Promise<unknown> => await api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'https://downstream.example.com/' })
  for (const [discovery, description] of [
    ['status-500', /could not read .*openid-configuration: HTTP 500/],
    ['not-an-object', /names another issuer/],
    ['other-issuer', /names another issuer/],
    ['no-token-endpoint', /has no usable https token_endpoint/],
    ['http-token-endpoint-elsewhere', /has no usable https token_endpoint/]
  ] as const) {
    server.discovery = discovery
    const err = await rejection(call())
    t.match(err, { error: 'discovery_failed', statusCode: undefined, error_description: description }, discovery)
  }
  t.equal(server.requests.length, 0, 'no token request without a token endpoint')
  server.discovery = 'normal'
  t.match(await call(), { accessToken: /^obo-/ }, 'the next call discovers again and succeeds')
  t.equal(server.discoveryRequests, 6)
})

t.test('arguments are checked before any request', async (t) => {
  const server = await endpoint(t)
  const api = await app(t, { client: { clientId: server.clientId, clientSecret: server.clientSecret, issuer: server.issuer } })
  const bad: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['Bearer prefix', () => api.auth0.getTokenOnBehalfOf(`Bearer ${USER_TOKEN}`, { audience: 'a' }), /accessToken must be the raw token/],
    ['DPoP prefix', () => api.auth0.getAccessTokenForConnection({ connection: 'c', accessToken: `dpop ${USER_TOKEN}` }), /accessToken must be the raw token/],
    ['whitespace', () => api.auth0.getTokenByExchangeProfile(`${USER_TOKEN}\n`, { subjectTokenType: 'urn:x' }), /subjectToken must not contain whitespace/],
    ['empty token', () => api.auth0.getTokenOnBehalfOf('', { audience: 'a' }), /accessToken must be a non-empty string/],
    ['no audience', () => api.auth0.getTokenOnBehalfOf(USER_TOKEN, {} as never), /audience must be a non-empty string/],
    ['no options', () => api.auth0.getTokenOnBehalfOf(USER_TOKEN, undefined as never), /needs \{ audience, scope\? \}/],
    ['no profile options', () => api.auth0.getTokenByExchangeProfile(USER_TOKEN, null as never), /needs \{ subjectTokenType/],
    ['no connection options', () => api.auth0.getAccessTokenForConnection(undefined as never), /needs \{ connection, accessToken/],
    ['blank connection', () => api.auth0.getAccessTokenForConnection({ connection: ' ', accessToken: USER_TOKEN }), /connection must be a non-empty string/],
    ['control character in scope', () => api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'a', scope: 'read\r\nx' }), /scope must be a non-empty string/],
    ['no subject token type', () => api.auth0.getTokenByExchangeProfile(USER_TOKEN, {} as never), /subjectTokenType must be a non-empty string/]
  ]
  for (const [name, fn, message] of bad) await t.rejects(fn(), { name: 'TypeError', message }, name)
  t.equal(server.requests.length + server.discoveryRequests, 0)
})

t.test('without client credentials the methods say what to configure', async (t) => {
  // Half a pair in the environment (e.g. a web login's secret) configures nothing and stops nothing.
  for (const env of [{}, { AUTH0_CLIENT_SECRET: 'web-login-secret' }, { AUTH0_CLIENT_ID: 'web-login-client' }]) {
    const api = await app(t, { env })
    await t.rejects(api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'a' }), /needs the API's client credentials/)
  }
  const api = await app(t, {})
  for (const fn of [
    () => api.auth0.getTokenOnBehalfOf(USER_TOKEN, { audience: 'a' }),
    () => api.auth0.getAccessTokenForConnection({ connection: 'c', accessToken: USER_TOKEN }),
    () => api.auth0.getTokenByExchangeProfile(USER_TOKEN, { subjectTokenType: 'urn:x' })
  ]) {
    await t.rejects(fn(), /needs the API's client credentials: set the client option .* or AUTH0_CLIENT_ID \/ AUTH0_CLIENT_SECRET/)
  }
})

t.test('which issuer the token endpoint is discovered from', async (t) => {
  const server = await endpoint(t)
  const credentials = { clientId: server.clientId, clientSecret: server.clientSecret }
  const audience = { audience: 'https://downstream.example.com/' }

  const fromIssuerBaseURL = await app(t, { issuerBaseURL: server.issuer, client: credentials })
  t.match(await fromIssuerBaseURL.auth0.getTokenOnBehalfOf(USER_TOKEN, audience), { accessToken: /^obo-/ }, 'issuerBaseURL')

  const fromOnlyDomain = await app(t, { issuerBaseURL: undefined, domains: [server.issuer], client: credentials })
  t.match(await fromOnlyDomain.auth0.getTokenOnBehalfOf(USER_TOKEN, audience), { accessToken: /^obo-/ }, 'the only allowed issuer')

  const fromEnv = Fastify()
  t.teardown(async () => { await fromEnv.close() })
  await fromEnv.register(auth0Plugin, { env: { AUTH0_ISSUER_BASE_URL: server.issuer, AUTH0_AUDIENCE: AUDIENCE, AUTH0_CLIENT_ID: server.clientId, AUTH0_CLIENT_SECRET: server.clientSecret } })
  t.match(await fromEnv.auth0.getTokenOnBehalfOf(USER_TOKEN, audience), { accessToken: /^obo-/ }, 'AUTH0_ISSUER_BASE_URL with AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET')
  t.equal(server.requests.at(-1)?.params.client_id, server.clientId)

  const idHereSecretInEnv = await app(t, { issuerBaseURL: server.issuer, env: { AUTH0_CLIENT_SECRET: server.clientSecret }, client: { clientId: server.clientId } })
  t.match(await idHereSecretInEnv.auth0.getTokenOnBehalfOf(USER_TOKEN, audience), { accessToken: /^obo-/ }, 'client.clientId with AUTH0_CLIENT_SECRET')

  // A bare domain: https://{domain}/ (not reachable here, so the explicit token endpoint is used).
  const fromDomain = await app(t, { issuerBaseURL: undefined, domain: 'tenant.example.com', client: { ...credentials, tokenEndpoint: server.tokenEndpoint } })
  t.match(await fromDomain.auth0.getTokenOnBehalfOf(USER_TOKEN, audience), { accessToken: /^obo-/ }, 'domain')
  const fromEnvDomain = Fastify()
  t.teardown(async () => { await fromEnvDomain.close() })
  await fromEnvDomain.register(auth0Plugin, { env: { AUTH0_DOMAIN: 'tenant.example.com', AUTH0_AUDIENCE: AUDIENCE }, client: { ...credentials, tokenEndpoint: server.tokenEndpoint } })
  t.match(await fromEnvDomain.auth0.getTokenOnBehalfOf(USER_TOKEN, audience), { accessToken: /^obo-/ }, 'AUTH0_DOMAIN')

  const clientIssuerDomain = await app(t, { client: { ...credentials, issuer: 'other-tenant.example.com', tokenEndpoint: server.tokenEndpoint } })
  t.match(await clientIssuerDomain.auth0.getTokenOnBehalfOf(USER_TOKEN, audience), { accessToken: /^obo-/ }, 'client.issuer as a bare domain')
})

t.test('start-up refuses a bad client configuration, naming the option', async (t) => {
  const ec = await generateKeyPair('ES256', { extractable: true })
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const refused: Array<[string, Partial<Auth0PluginOptions>, RegExp]> = [
    ['not an object', { client: 'id:secret' as never }, /client must be an options object/],
    ['unknown option', { client: { clientId: 'c', clientSecret: 's', secret: 'x' } as never }, /client: unknown option "secret"/],
    ['no client id', { client: { clientSecret: 's' } }, /client.clientId \(or AUTH0_CLIENT_ID\) is required/],
    ['empty client id', { client: { clientId: '', clientSecret: 's' } }, /client.clientId must be a non-empty string/],
    ['neither secret nor key', { client: { clientId: 'c' } }, /needs a clientSecret \(or AUTH0_CLIENT_SECRET\) or a privateKey/],
    ['both', { client: { clientId: 'c', clientSecret: 's', privateKey: rsa.privateKey } }, /set either client.clientSecret or client.privateKey/],
    ['empty secret', { client: { clientId: 'c', clientSecret: '' } }, /client.clientSecret must be a non-empty string/],
    ['bad authMethod', { client: { clientId: 'c', clientSecret: 's', authMethod: 'private_key_jwt' as never } }, /client.authMethod must be/],
    ['authMethod with a key', { client: { clientId: 'c', privateKey: rsa.privateKey, authMethod: 'client_secret_basic' } }, /authMethod applies to a client secret/],
    ['HS256', { client: { clientId: 'c', privateKey: rsa.privateKey, privateKeyAlg: 'HS256' } }, /client.privateKeyAlg must be one of/],
    ['not a PEM', { client: { clientId: 'c', privateKey: 'not a pem' } }, /client.privateKey could not be imported for RS256/],
    ['public JWK', { client: { clientId: 'c', privateKey: await exportJWK(rsa.publicKey) } }, /client.privateKey is a public JWK/],
    ['JWK of another type', { client: { clientId: 'c', privateKey: await exportJWK(ec.privateKey) } }, /client.privateKey could not be imported for RS256/],
    ['public CryptoKey', { client: { clientId: 'c', privateKey: rsa.publicKey } }, /client.privateKey must be a PKCS#8 PEM string/],
    ['something else', { client: { clientId: 'c', privateKey: 42 as never } }, /client.privateKey must be a PKCS#8 PEM string/],
    ['key cannot sign the alg', { client: { clientId: 'c', privateKey: ec.privateKey } }, /client.privateKey cannot sign RS256/],
    ['empty kid', { client: { clientId: 'c', privateKey: rsa.privateKey, privateKeyKid: '' } }, /client.privateKeyKid must be a non-empty string/],
    ['bad timeout', { client: { clientId: 'c', clientSecret: 's', timeout: 0 } }, /client.timeout must be an integer number of milliseconds/],
    ['http token endpoint', { client: { clientId: 'c', clientSecret: 's', tokenEndpoint: 'http://tenant.example.com/oauth/token' } }, /client.tokenEndpoint must be an absolute https URL/],
    ['not a URL', { client: { clientId: 'c', clientSecret: 's', tokenEndpoint: 'oauth/token' } }, /client.tokenEndpoint must be an absolute https URL/],
    ['bad client.issuer', { client: { clientId: 'c', clientSecret: 's', issuer: 'http://tenant.example.com/' } }, /client.issuer must use https/],
    ['several issuers', { issuerBaseURL: undefined, domains: ['a.example.com', 'b.example.com'], client: { clientId: 'c', clientSecret: 's' } }, /client.issuer is required when several issuers are allowed/]
  ]
  for (const [name, options, message] of refused) {
    const instance = Fastify()
    await t.rejects(async () => { await instance.register(auth0Plugin, { issuerBaseURL: 'https://tenant.example.com/', audience: AUDIENCE, env: {}, ...options }) }, { message }, name)
    await instance.close()
  }

  const envSecretIgnored = Fastify()
  t.teardown(async () => { await envSecretIgnored.close() })
  await t.resolves(async () => {
    await envSecretIgnored.register(auth0Plugin, {
      issuerBaseURL: 'https://tenant.example.com/', audience: AUDIENCE, env: { AUTH0_CLIENT_SECRET: 'from-env' }, client: { clientId: 'c', privateKey: rsa.privateKey }
    })
  }, 'an explicit privateKey wins over AUTH0_CLIENT_SECRET')
})
