/**
 * Token exchange at the authorization server's token endpoint, for an API that calls other APIs
 * as its caller: Auth0 Token Vault (an access token for a federated connection), RFC 8693 Custom
 * Token Exchange, and on-behalf-of (an access token for another audience, same user).
 *
 * This module checks each method's arguments and builds its grant; the parts live beside it:
 * the `client` option (client-config.ts), client authentication (client-auth.ts), where the token
 * endpoint is (token-endpoint.ts) and the POST with the reading of its answer (token-request.ts).
 * Every failure of a call is a `TokenEndpointError` whose message never carries a token or a secret.
 */
import { authenticateClient } from './client-auth.js'
import { PREFIX, type ResolvedClient } from './client-config.js'
import { tokenEndpointOf } from './token-endpoint.js'
import { postTokenRequest, tokenSet } from './token-request.js'
import type { ExchangeProfileTokenSet, TokenExchange } from './types.js'

export { resolveClient, type ResolvedClient } from './client-config.js'
export type * from './types.js'

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const FEDERATED_CONNECTION = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token'
const FEDERATED_CONNECTION_TOKEN = 'http://auth0.com/oauth/token-type/federated-connection-access-token'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'

/** A token passed by the caller: the raw value, so a `Bearer ` prefix or stray whitespace fails here, not at the server. */
function checkToken (value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${PREFIX}${name} must be a non-empty string`)
  if (/^bearer\s/i.test(value) || /^dpop\s/i.test(value)) throw new TypeError(`${PREFIX}${name} must be the raw token, without the "Bearer "/"DPoP " prefix`)
  if (/\s/.test(value)) throw new TypeError(`${PREFIX}${name} must not contain whitespace`)
  return value
}

function checkParam (value: unknown, name: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined
  // Printable ASCII and spaces (scope lists); no control characters reach the form body.
  if (typeof value !== 'string' || value.trim() === '' || /[\x00-\x1f\x7f]/.test(value)) {
    throw new TypeError(`${PREFIX}${name} must be a non-empty string`)
  }
  return value
}

export function createTokenExchange (client: ResolvedClient | undefined): TokenExchange {
  const tokenEndpoint = client === undefined ? undefined : tokenEndpointOf(client)

  function configured (method: string): ResolvedClient {
    if (client === undefined) {
      throw new Error(`${PREFIX}${method} needs the API's client credentials: set the client option ({ clientId, clientSecret } or { clientId, privateKey }) or AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET`)
    }
    return client
  }

  /** The grant's form, the client's credentials, one POST: the answer's JSON object. */
  async function request (c: ResolvedClient, grant: Record<string, string | undefined>, subjectToken: string): Promise<Record<string, unknown>> {
    const url = await (tokenEndpoint as () => Promise<string>)()
    const params = new URLSearchParams()
    for (const [name, value] of Object.entries(grant)) if (value !== undefined) params.set(name, value)
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
    const secrets = [subjectToken, ...await authenticateClient(c, params, headers)]
    return await postTokenRequest(url, params, headers, c.timeout, secrets)
  }

  return {
    async getAccessTokenForConnection (options) {
      const method = 'getAccessTokenForConnection'
      const c = configured(method)
      if (typeof options !== 'object' || options === null) throw new TypeError(`${PREFIX}${method} needs { connection, accessToken, loginHint? }`)
      const accessToken = checkToken(options.accessToken, `${method}: accessToken`)
      const connection = checkParam(options.connection, `${method}: connection`, true) as string
      const loginHint = checkParam(options.loginHint, `${method}: loginHint`, false)
      const doc = await request(c, {
        grant_type: FEDERATED_CONNECTION,
        subject_token: accessToken,
        subject_token_type: ACCESS_TOKEN,
        requested_token_type: FEDERATED_CONNECTION_TOKEN,
        connection,
        login_hint: loginHint
      }, accessToken)
      return { ...tokenSet(doc), connection, ...(loginHint !== undefined ? { loginHint } : {}) }
    },

    async getTokenByExchangeProfile (subjectToken, options) {
      const method = 'getTokenByExchangeProfile'
      const c = configured(method)
      const token = checkToken(subjectToken, `${method}: subjectToken`)
      if (typeof options !== 'object' || options === null) throw new TypeError(`${PREFIX}${method} needs { subjectTokenType, audience?, scope? }`)
      const doc = await request(c, {
        grant_type: TOKEN_EXCHANGE,
        subject_token: token,
        subject_token_type: checkParam(options.subjectTokenType, `${method}: subjectTokenType`, true),
        audience: checkParam(options.audience, `${method}: audience`, false),
        scope: checkParam(options.scope, `${method}: scope`, false),
        requested_token_type: checkParam(options.requestedTokenType, `${method}: requestedTokenType`, false),
        organization: checkParam(options.organization, `${method}: organization`, false)
      }, token)
      const set: ExchangeProfileTokenSet = tokenSet(doc)
      if (typeof doc.id_token === 'string') set.idToken = doc.id_token
      if (typeof doc.refresh_token === 'string') set.refreshToken = doc.refresh_token
      return set
    },

    async getTokenOnBehalfOf (accessToken, options) {
      const method = 'getTokenOnBehalfOf'
      const c = configured(method)
      const token = checkToken(accessToken, `${method}: accessToken`)
      if (typeof options !== 'object' || options === null) throw new TypeError(`${PREFIX}${method} needs { audience, scope? }`)
      const doc = await request(c, {
        grant_type: TOKEN_EXCHANGE,
        subject_token: token,
        subject_token_type: ACCESS_TOKEN,
        requested_token_type: ACCESS_TOKEN,
        audience: checkParam(options.audience, `${method}: audience`, true),
        scope: checkParam(options.scope, `${method}: scope`, false)
      }, token)
      // Only the access token: an on-behalf-of exchange hands out nothing longer-lived.
      return tokenSet(doc)
    }
  }
}
