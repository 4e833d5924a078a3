/**
 * DPoP test set-up: a real test issuer over HTTP, a real Fastify app with the plugin, real keys and
 * real signatures. `inject` drives Fastify's full request lifecycle; the Host header is set to the
 * public name the proofs target.
 */
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions, type LightMyRequestResponse } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, dpopKey, proof, type DpopKey, type ProofOptions, type TestIssuer } from '../../lib/testing/index.js'
import { oracleEveryReply } from '../helpers/expect.js'

export const AUDIENCE = 'https://api.example.com/'
export const HOST = 'api.example.com'
export const ORIGIN = `http://${HOST}`

export interface DpopHarness {
  app: FastifyInstance
  issuer: TestIssuer
  /** An ES256 client key. */
  key: DpopKey
  /** A token bound to `key` (or to `boundTo`). */
  boundToken (claims?: Record<string, unknown>, boundTo?: DpopKey): Promise<string>
  /** A token with no `cnf`. */
  bearerToken (claims?: Record<string, unknown>): Promise<string>
  /** A proof by `key` for `method` + `ORIGIN + path`, with `ath` of `token`. */
  proofFor (token: string, path: string, options?: Partial<ProofOptions>): Promise<string>
  /** `inject` with Host `api.example.com`, `Authorization: <scheme> <token>` and a `DPoP` header. */
  /** Listens on 127.0.0.1 and returns the port (closed with the app). */
  listen (): Promise<number>
  send (request: { method?: string, path: string, scheme?: string, token?: string, proof?: string, headers?: Record<string, string | string[]> }): Promise<LightMyRequestResponse>
}

/**
 * Routes: GET/POST /private (any token), GET /required (per-route `dpop: 'required'`),
 * GET /messages (scope `read:messages`), GET /dir/ (trailing slash), GET /files/* (any path),
 * GET /optional.
 */
export async function dpopHarness (
  t: { teardown (fn: () => unknown): void },
  options: Partial<Auth0PluginOptions> = {},
  fastifyOptions: FastifyServerOptions = {}
): Promise<DpopHarness> {
  const issuer = await createTestIssuer()
  const app = Fastify(fastifyOptions)
  t.teardown(async () => {
    await app.close()
    await issuer.close()
  })
  // Every reply, looked at or not, goes through the WWW-Authenticate grammar oracle.
  oracleEveryReply(app, t)
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, ...options })
  const echo = async (request: { claims: { sub: string }, auth?: unknown }): Promise<unknown> => ({ sub: request.claims.sub, auth: request.auth })
  app.get('/private', { preHandler: app.requireAuth() }, echo)
  app.post('/private', { preHandler: app.requireAuth() }, echo)
  app.get('/required', { preHandler: app.requireAuth({ dpop: 'required' }) }, echo)
  app.get('/messages', { preHandler: app.requireAuth('read:messages') }, echo)
  app.get('/dir/', { preHandler: app.requireAuth() }, echo)
  app.get('/files/*', { preHandler: app.requireAuth() }, echo)
  app.get('/optional', { preHandler: app.requireAuth({ optional: true }) }, async (request) => ({ claims: request.claims ?? null }))
  await app.ready()
  const key = await dpopKey()
  return {
    app,
    issuer,
    key,
    boundToken: async (claims = {}, boundTo = key) => await issuer.token(claims, { dpopKey: boundTo }),
    bearerToken: async (claims = {}) => await issuer.token(claims),
    listen: async () => {
      await app.listen({ port: 0, host: '127.0.0.1' })
      return (app.server.address() as AddressInfo).port
    },
    proofFor: async (token, path, extra = {}) => await proof({ key, url: ORIGIN + path, accessToken: token, ...extra }),
    send: async ({ method = 'GET', path, scheme = 'DPoP', token, proof, headers = {} }) => await app.inject({
      method: method as 'GET',
      url: path,
      headers: {
        host: HOST,
        ...(token !== undefined ? { authorization: `${scheme} ${token}` } : {}),
        ...(proof !== undefined ? { dpop: proof } : {}),
        ...headers
      }
    })
  }
}

/** The assertions the shared checks need (any tap Test has them). */
export interface Asserts {
  equal (found: unknown, wanted: unknown, ...message: any[]): boolean
  same (found: unknown, wanted: unknown, ...message: any[]): boolean
  ok (value: unknown, ...message: any[]): boolean
}

/** `{"detail":{"error":…,"error_description":…}}` */
export function body (error: string, description: string): { detail: { error: string, error_description: string } } {
  return { detail: { error, error_description: description } }
}

/** RFC 9110 quoted-string, as the challenges write descriptions. */
export function q (value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`
}

/** The allowed-mode challenge line with error parameters on the DPoP challenge. */
export function dpopChallenge (error: string, description: string, algs = 'ES256'): string {
  return `Bearer realm="api", DPoP error="${error}", error_description=${q(description)}, algs="${algs}"`
}
