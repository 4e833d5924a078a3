/**
 * A small real HTTP(S) server whose answers a test scripts per path, for issuer misbehaviour the
 * testing kit does not offer (oversized or truncated bodies, redirects, Cache-Control, TLS).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'

export type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>/` (or `https://<host>:<port>/`). */
  readonly base: string
  readonly port: number
  /** Requests received per path. */
  readonly hits: Record<string, number>
  /** Replaces the handler of a path. */
  on (path: string, handler: Handler): void
  close (): Promise<void>
}

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url)

export function json (res: ServerResponse, body: unknown, headers: Record<string, string> = {}, status = 200): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers })
  res.end(text)
}

export async function scriptedServer (options: { tls?: boolean, host?: string } = {}): Promise<ScriptedServer> {
  const handlers = new Map<string, Handler>()
  const hits: Record<string, number> = {}
  let base = ''
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] as string
    hits[path] = (hits[path] ?? 0) + 1
    const handler = handlers.get(path)
    if (handler === undefined) return json(res, { error: 'not found' }, {}, 404)
    handler(req, res, base)
  }
  const server: Server = options.tls === true
    ? createHttpsServer({ key: readFileSync(new URL('key.pem', TLS_DIR)), cert: readFileSync(new URL('cert.pem', TLS_DIR)) }, listener)
    : createHttpServer(listener)
  server.keepAliveTimeout = 500
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  base = `${options.tls === true ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${port}/`
  return {
    base,
    port,
    hits,
    on (path, handler) { handlers.set(path, handler) },
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
