/**
 * A bare HTTP/1.x client over a TCP socket: sends header lines exactly as written (repeated
 * headers, a Host no client library would send, absolute-form targets, HTTP/1.0 without Host).
 */
import net from 'node:net'

export interface RawResponse {
  status: number
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>
  body: string
  json (): any
}

export async function rawRequest (port: number, requestLine: string, headerLines: string[]): Promise<RawResponse> {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`${requestLine}\r\n${[...headerLines, 'Connection: close'].join('\r\n')}\r\n\r\n`)
    })
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { received += chunk })
    socket.on('end', () => resolve(received))
    socket.on('error', reject)
  })
  const split = text.indexOf('\r\n\r\n')
  const [statusLine, ...lines] = text.slice(0, split).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  const body = text.slice(split + 4)
  return { status: Number((statusLine as string).split(' ')[1]), headers, body, json: () => JSON.parse(body) }
}
