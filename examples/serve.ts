/**
 * How each example runs as a program. With a tenant configured (AUTH0_DOMAIN or
 * AUTH0_ISSUER_BASE_URL, and AUTH0_AUDIENCE) the plugin reads it from the environment. Without
 * one, a local test issuer (the package's testing kit) signs tokens, and the program prints
 * ready-to-paste curl lines, each under a `# <status>: <what>` label saying what it answers.
 */
import type { FastifyInstance } from 'fastify'
import type { Auth0PluginOptions } from 'fastify-auth0-api'
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from 'fastify-auth0-api/testing'

export interface Local {
  issuer: TestIssuer
  audience: string
  /** Plugin options that point at the local issuer (and read nothing from the environment). */
  options: Auth0PluginOptions
  /** A second local issuer (another tenant), closed with the first. */
  anotherIssuer (): Promise<TestIssuer>
}

/** One request to try: the status it gets, what it shows, and what to send. */
export interface Try {
  status: number
  what: string
  path: string
  method?: string
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  headers?: Record<string, string>
}

export interface Example {
  app: FastifyInstance
  /** Requests to print (local issuer only). */
  tries?: Try[]
}

/** True when the environment names a tenant, so the example runs against it. */
export function hasTenant (env: Record<string, string | undefined>): boolean {
  return (env.AUTH0_DOMAIN ?? '') !== '' || (env.AUTH0_ISSUER_BASE_URL ?? '') !== ''
}

export function curlLine (base: string, request: Try): string {
  const parts = ['curl -i']
  if (request.method !== undefined) parts.push(`-X ${request.method}`)
  if (request.token !== undefined) parts.push(`-H 'Authorization: Bearer ${request.token}'`)
  for (const [name, value] of Object.entries(request.headers ?? {})) parts.push(`-H '${name}: ${value}'`)
  parts.push(`${base}${request.path}`)
  return parts.join(' ')
}

/**
 * Builds the example (given the local issuer, or `undefined` for a tenant), listens on PORT
 * (default 3000) and HOST (default 127.0.0.1), prints `Listening on <url>` and the curl lines,
 * and closes everything on Ctrl-C.
 */
export async function serveExample (
  start: (local: Local | undefined) => Promise<Example>,
  env: Record<string, string | undefined> = process.env,
  tenant = hasTenant(env),
  /** How the local issuer signs (e.g. `{ alg: 'HS256' }`). */
  issuerOptions: TestIssuerOptions = {}
): Promise<void> {
  const issuers: TestIssuer[] = []
  let local: Local | undefined
  if (!tenant) {
    const audience = env.AUTH0_AUDIENCE ?? 'https://api.example.com/'
    const issuer = await createTestIssuer({ ...issuerOptions, audience })
    issuers.push(issuer)
    local = {
      issuer,
      audience,
      options: { issuerBaseURL: issuer.issuerBaseURL, audience, env: {} },
      async anotherIssuer () {
        const another = await createTestIssuer({ audience })
        issuers.push(another)
        return another
      }
    }
  }
  const { app, tries = [] } = await start(local)
  const base = await app.listen({ port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' })
  const lines = [`Listening on ${base}`]
  if (local !== undefined) {
    lines.push(`# No tenant configured (AUTH0_DOMAIN / AUTH0_ISSUER_BASE_URL): a local test issuer at ${local.issuer.issuerBaseURL} signs the tokens below (audience ${local.audience}).`)
    for (const request of tries) lines.push(`# ${request.status}: ${request.what}`, curlLine(base, request))
  }
  lines.push('# Ctrl-C to stop.')
  console.log(lines.join('\n'))
  const stop = (): void => {
    Promise.all([app.close(), ...issuers.map(async (issuer) => { await issuer.close() })])
      .then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
