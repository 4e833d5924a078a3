/**
 * A small forward proxy on 127.0.0.1, as a company egress proxy: `CONNECT host:port` tunnels
 * (what undici's ProxyAgent sends) and absolute-form requests (`GET http://host/path`). It
 * records every request it carries, reading the request lines inside plain-HTTP tunnels.
 */
import { createServer, request as httpRequest, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

export interface ForwardProxy {
  readonly url: string
  /** `METHOD http://host:port/path` of every request carried. */
  readonly requests: string[]
  /** `host:port` of every CONNECT. */
  readonly tunnels: string[]
  close (): Promise<void>
}

export async function startForwardProxy (): Promise<ForwardProxy> {
  const requests: string[] = []
  const tunnels: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    // Absolute-form request: forward it as is.
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`)
    const upstream = httpRequest(req.url ?? '', { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => { res.writeHead(502).end() })
    req.pipe(upstream)
  })
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? ''
    tunnels.push(target)
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))]
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    sockets.add(client).add(upstream)
    // Request lines of plain HTTP inside the tunnel (TLS would hide them: counted as tunnels only).
    client.on('data', (chunk: Buffer) => {
      for (const match of chunk.toString('latin1').matchAll(/^(GET|POST|HEAD|PUT|DELETE|PATCH|OPTIONS) (\S+) HTTP\/1\.[01]\r$/gm)) requests.push(`${match[1] ?? ''} http://${target}${match[2] ?? ''}`)
    })
    const end = (): void => { client.destroy(); upstream.destroy() }
    upstream.on('error', end)
    client.on('error', end)
    upstream.on('close', end)
    client.on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    tunnels,
    async close () {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
