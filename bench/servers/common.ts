/**
 * What every system under test shares: where the issuer is, which port to take, and how to tell
 * the driver that it listens. Each system runs alone in its own process, started by the driver.
 */
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

export interface ServerEnv {
  issuer: string
  audience: string
  port: number
}

export function readServerEnv (): ServerEnv {
  const issuer = process.env.BENCH_ISSUER
  const audience = process.env.BENCH_AUDIENCE
  const port = Number(process.env.BENCH_PORT ?? '0')
  if (issuer === undefined || audience === undefined) {
    throw new Error('BENCH_ISSUER and BENCH_AUDIENCE must be set: servers are started by bench/run.ts')
  }
  return { issuer, audience, port }
}

/** The driver waits for this exact line on stdout before it sends anything. */
export function announce (server: Server): void {
  const { port } = server.address() as AddressInfo
  process.stdout.write(JSON.stringify({ listening: port }) + '\n')
}

// The driver stops servers with SIGTERM; exit at once so VmHWM is read from a still-living
// process by the driver, never from a half torn-down one.
process.once('SIGTERM', () => process.exit(0))
