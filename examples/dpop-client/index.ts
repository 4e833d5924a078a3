/**
 * A DPoP client (oauth4webapi) calling a route that requires DPoP, with server nonces on.
 * oauth4webapi signs a fresh proof per request and, on a `use_dpop_nonce` challenge, retries once
 * with the nonce from the `DPoP-Nonce` header.
 *
 *   npm run build:examples && node .build/examples/dpop-client/index.js
 * runs the API, a local test issuer (which binds the token to the client's key) and the client.
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import * as oauth from 'oauth4webapi'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { createTestIssuer } from 'fastify-auth0-api/testing'

/** The API: DPoP only, with server-issued nonces (RFC 9449 §9). */
export async function buildDpopApi (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(auth0Plugin, { ...options, dpop: { mode: 'required', nonce: true, ...options.dpop } })
  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({
    user: request.claims.sub,
    scheme: request.auth?.scheme,
    jkt: request.auth?.jkt
  }))
  return app
}

export interface DpopClient {
  keyPair: oauth.CryptoKeyPair
  /** RFC 7638 thumbprint of the public key: what the authorization server puts in `cnf.jkt`. */
  jkt: string
  /** GET with a DPoP proof; retries once on `use_dpop_nonce`. */
  get (url: string, accessToken: string): Promise<{ status: number, body: unknown, nonceRetried: boolean }>
}

export async function createDpopClient (): Promise<DpopClient> {
  const keyPair = await oauth.generateKeyPair('ES256')
  const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey))
  // One handle per key: it caches the server's nonce per origin.
  const handle = oauth.DPoP({}, keyPair)
  // Plain http is for this loopback demo only; never set this against a real API.
  const options = { DPoP: handle, [oauth.allowInsecureRequests]: true }
  const send = async (url: string, accessToken: string): Promise<Response> =>
    await oauth.protectedResourceRequest(accessToken, 'GET', new URL(url), new Headers(), null, options)
  return {
    keyPair,
    jkt,
    async get (url, accessToken) {
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await send(url, accessToken)
          return { status: response.status, body: await response.json(), nonceRetried: attempt > 0 }
        } catch (err) {
          // Once: the handle has cached the nonce from the challenge's DPoP-Nonce header.
          if (attempt === 0 && oauth.isDPoPNonceError(err)) continue
          // Any other challenge (401/403): hand back the response the error carries.
          if (err instanceof oauth.WWWAuthenticateChallengeError) {
            return { status: err.response.status, body: await err.response.json(), nonceRetried: attempt > 0 }
          }
          throw err
        }
      }
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const audience = 'https://api.example.com/'
  const issuer = await createTestIssuer({ audience })
  const app = await buildDpopApi({ issuerBaseURL: issuer.issuerBaseURL, audience, env: {} })
  const base = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
  const client = await createDpopClient()
  // A real authorization server binds the token when the token request carries a DPoP proof;
  // the test issuer binds it to the key's thumbprint directly.
  const token = await issuer.token({ scope: 'read:messages' }, { dpopKey: { jkt: client.jkt } })
  const result = await client.get(`${base}/api/messages`, token)
  console.log(JSON.stringify(result))
  await app.close()
  await issuer.close()
}
