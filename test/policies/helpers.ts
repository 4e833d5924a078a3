/**
 * Policy test set-up: a real test issuer over HTTP and a real Fastify app with the plugin; routes
 * are declared by each test. Requests go through `inject` with the Host the DPoP proofs target.
 */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, dpopKey, proof, type DpopKey, type TestIssuer, type TokenOptions } from '../../lib/testing/index.js'
import { oracleEveryReply } from '../helpers/expect.js'

export const AUDIENCE = 'https://api.example.com/'
export const HOST = 'api.example.com'

export interface PolicyApp {
  app: FastifyInstance
  issuer: TestIssuer
  key: DpopKey
  /** A Bearer request with a fresh token of these claims. */
  bearer (url: string, claims?: Record<string, unknown>, options?: TokenOptions): Promise<LightMyRequestResponse>
  /** A DPoP request: a fresh token of these claims bound to `key`, and a proof for the URL. */
  dpop (url: string, claims?: Record<string, unknown>, options?: TokenOptions): Promise<LightMyRequestResponse>
  /** A request with this exact token under Bearer. */
  send (url: string, token: string): Promise<LightMyRequestResponse>
}

/** Echoes what the route was handed. */
export const echo = async (request: { claims: Record<string, unknown>, auth?: unknown }): Promise<unknown> => ({ claims: request.claims, auth: request.auth })

export async function policyApp (
  t: { teardown (fn: () => unknown): void },
  options: Partial<Auth0PluginOptions>,
  routes: (app: FastifyInstance) => void
): Promise<PolicyApp> {
  const issuer = await createTestIssuer()
  const app = Fastify()
  t.teardown(async () => {
    await app.close()
    await issuer.close()
  })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, ...options })
  // Every reply, refusals of every policy included, through the WWW-Authenticate grammar oracle.
  oracleEveryReply(app, t)
  routes(app)
  await app.ready()
  const key = await dpopKey()
  const send = async (url: string, token: string): Promise<LightMyRequestResponse> =>
    await app.inject({ url, headers: { host: HOST, authorization: `Bearer ${token}` } })
  return {
    app,
    issuer,
    key,
    send,
    bearer: async (url, claims = {}, tokenOptions = {}) => await send(url, await issuer.token(claims, tokenOptions)),
    async dpop (url, claims = {}, tokenOptions = {}) {
      const token = await issuer.token(claims, { ...tokenOptions, dpopKey: key })
      const dpop = await proof({ key, url: `http://${HOST}${url}`, accessToken: token })
      return await app.inject({ url, headers: { host: HOST, authorization: `DPoP ${token}`, dpop } })
    }
  }
}

/** RFC 6750 §3: what an `error_description` may hold (the oracle checks every reply too). */
export function describable (text: string): boolean {
  return /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(text)
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
