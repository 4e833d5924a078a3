/**
 * `npm run demo`: the example API against a local test issuer (or the tenant in .env when
 * AUTH0_DOMAIN is set), and ready-to-paste curl commands with freshly minted tokens.
 *
 *   npm run demo                 # or: npm run build:examples && node .build/examples/demo.js
 *
 * The curl lines go to stdout; the server's log goes to stderr at `info` (LOG_LEVEL to change),
 * so each refusal shows its machine reason next to the request id ("fastify-auth0-api:
 * authentication failed", `reason`, `statusCode`). Log lines never carry the token.
 */
import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { createTestIssuer, type TestIssuer } from 'fastify-auth0-api/testing'
import { buildApi } from './api.js'

export interface Demo {
  app: FastifyInstance
  issuer: TestIssuer | undefined
  baseUrl: string
  /** The lines printed: comments (`# …`) and `curl …` commands, one per line. */
  lines: string[]
  close (): Promise<void>
}

export async function startDemo (env: Record<string, string | undefined> = process.env, port = Number(env.PORT ?? 3000)): Promise<Demo> {
  const tenant = env.AUTH0_DOMAIN !== undefined && env.AUTH0_DOMAIN !== ''
  const audience = env.AUTH0_AUDIENCE ?? 'https://api.example.com/'
  const issuer = tenant ? undefined : await createTestIssuer({ audience })
  // `info`: the level of the plugin's refusal lines (the example API's default `warn` hides them).
  const logger = { level: env.LOG_LEVEL ?? 'info', stream: process.stderr }
  const app = await buildApi(issuer === undefined ? { env } : { issuerBaseURL: issuer.issuerBaseURL, audience, env: {} }, logger)
  await app.listen({ port, host: '127.0.0.1' })
  const address = app.server.address()
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}`

  const lines: string[] = []
  if (issuer === undefined) {
    lines.push(`# API on ${baseUrl}, protected by your tenant ${String(env.AUTH0_DOMAIN)} (audience ${audience}).`,
      '# Get a token from your tenant (e.g. the API\'s Test tab in the Auth0 dashboard), then:',
      `curl -i ${baseUrl}/api/public`,
      `curl -i -H "Authorization: Bearer $TOKEN" ${baseUrl}/api/private`)
  } else {
    const granted = await issuer.token({ scope: 'read:messages' })
    const ungranted = await issuer.token({ scope: 'profile' })
    const expired = await issuer.token({ iat: Math.floor(Date.now() / 1000) - 7200 }, { expiresIn: -3600 })
    lines.push(`# API on ${baseUrl}, protected by a local test issuer at ${issuer.issuerBaseURL} (audience ${audience}).`,
      '# The server log (stderr) names the reason of each refusal.',
      '# 200: token with scope read:messages',
      `curl -i -H 'Authorization: Bearer ${granted}' ${baseUrl}/api/messages`,
      '# 403: valid token without read:messages',
      `curl -i -H 'Authorization: Bearer ${ungranted}' ${baseUrl}/api/messages`,
      '# 401: expired token',
      `curl -i -H 'Authorization: Bearer ${expired}' ${baseUrl}/api/messages`,
      '# 401: no token',
      `curl -i ${baseUrl}/api/private`)
  }
  return {
    app,
    issuer,
    baseUrl,
    lines,
    async close () {
      await app.close()
      await issuer?.close()
    }
  }
}

// Run as a program: print the commands and serve until Ctrl-C.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (existsSync('.env')) process.loadEnvFile('.env')
  const demo = await startDemo()
  console.log(demo.lines.join('\n'))
  console.log('# Ctrl-C to stop.')
  const stop = (): void => { demo.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
