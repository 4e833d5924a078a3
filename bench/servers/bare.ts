/** The ceiling: Fastify answering the same small JSON with no authentication at all. */
import Fastify from 'fastify'
import { announce, readServerEnv } from './common.js'

const env = readServerEnv()
const app = Fastify({ logger: false })
app.get('/protected', async () => ({ sub: 'anonymous' }))
await app.listen({ host: '127.0.0.1', port: env.port })
announce(app.server)
