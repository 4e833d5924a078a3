/**
 * A WebSocket API (@fastify/websocket) whose upgrade request is authenticated. Browsers cannot
 * set an Authorization header on `new WebSocket(url)`, so this route also takes the token from
 * the `access_token` query parameter or an `access_token` cookie (RFC 6750 §2.3; the plugin keeps
 * query tokens out of Fastify's request log). A refused upgrade is an ordinary HTTP 401/403.
 *
 * A cookie is sent by the browser on its own, to any page's WebSocket: a token from a cookie is
 * accepted only when the `Origin` header is one of ours (Cross-Site WebSocket Hijacking).
 *
 *   npm run build:examples && node .build/examples/websocket/index.js     (a local test issuer)
 *   AUTH0_DOMAIN=tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com/ node .build/examples/websocket/index.js
 *   // in a browser: new WebSocket(`ws://127.0.0.1:3000/ws?access_token=${token}`)
 */
import { pathToFileURL } from 'node:url'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample, type Try } from '../serve.js'

export interface WebSocketApiOptions extends Auth0PluginOptions {
  /** Origins whose pages may use the cookie. Default: env ALLOWED_ORIGINS (comma-separated). */
  allowedOrigins?: string[]
}

export async function buildWebSocketApi ({ allowedOrigins, ...options }: WebSocketApiOptions = {}): Promise<FastifyInstance> {
  const origins = new Set(allowedOrigins ?? (process.env.ALLOWED_ORIGINS ?? 'http://localhost:3000').split(','))
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(websocket)
  await app.register(auth0Plugin, options)

  const sameOriginForCookies = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (request.auth?.source === 'cookie' && !origins.has(String(request.headers.origin))) {
      // Replying without calling `done` ends the chain.
      void reply.code(403).send({ detail: { error: 'forbidden', error_description: 'cookie token from another origin' } })
      return
    }
    done()
  }

  app.get('/ws', {
    websocket: true,
    // The upgrade is a GET: no body, so the query and the cookie (the header too, for other clients).
    preValidation: [app.requireAuth({ scopes: 'read:messages', tokenSources: ['header', 'query', { cookie: 'access_token' }] }), sameOriginForCookies]
  }, (socket, request) => {
    socket.send(JSON.stringify({ hello: request.claims.sub, via: request.auth?.source ?? 'header' }))
    socket.on('message', (message: Buffer) => { socket.send(message.toString()) })
  })
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => {
    const token = local === undefined ? '' : await local.issuer.token({ scope: 'read:messages' })
    // curl cannot speak WebSocket: a plain GET shows the authentication of the upgrade request.
    const tries: Try[] = local === undefined ? [] : [
        { status: 404, what: 'query token accepted (a plain GET is then no upgrade: 404)', path: `/ws?access_token=${token}` },
        { status: 404, what: 'same-origin cookie accepted', path: '/ws', headers: { cookie: `access_token=${token}`, origin: 'http://localhost:3000' } },
        { status: 403, what: 'cookie from another origin', path: '/ws', headers: { cookie: `access_token=${token}`, origin: 'https://evil.example' } },
        { status: 400, what: 'two methods in one request', path: `/ws?access_token=${token}`, headers: { cookie: `access_token=${token}` } },
        { status: 401, what: 'no token', path: '/ws' }
    ]
    return { app: await buildWebSocketApi(local?.options), tries }
  })
}
