/**
 * Reference only: Express 5 with no authentication, so that express-oauth2-jwt-bearer's auth
 * cost can be told apart from Express's own per-request cost.
 */
import { createServer } from 'node:http'
import express from 'express'
import { announce, readServerEnv } from './common.js'

const env = readServerEnv()
const app = express()
app.disable('x-powered-by')
app.get('/protected', (_req, res) => { res.json({ sub: 'anonymous' }) })
const server = createServer(app)
server.listen(env.port, '127.0.0.1', () => announce(server))
