/** Auth0's Express SDK, Express 5: discovery + JWKS, iss/aud/exp checked, DPoP accepted (its default). */
import { createServer } from 'node:http'
import express, { type NextFunction, type Request, type Response } from 'express'
import { auth } from 'express-oauth2-jwt-bearer'
import { announce, readServerEnv } from './common.js'

const env = readServerEnv()
const app = express()
app.disable('x-powered-by')
// One middleware for the route, built once: building it per request would fetch discovery again.
const checkJwt = auth({ issuerBaseURL: env.issuer, audience: env.audience, tokenSigningAlg: 'RS256' })
app.get('/protected', checkJwt, (req, res) => { res.json({ sub: req.auth?.payload.sub }) })

interface HttpError { status?: number, code?: string, headers?: Record<string, string> }
// Express's default handler prints every error's stack to stderr, which would make the 401
// scenarios measure console output; answer like an API would instead.
app.use((err: HttpError, _req: Request, res: Response, _next: NextFunction) => {
  const status = typeof err.status === 'number' ? err.status : 500
  if (err.headers !== undefined) res.set(err.headers)
  res.status(status).json({ error: err.code ?? 'error' })
})

const server = createServer(app)
server.listen(env.port, '127.0.0.1', () => announce(server))
