/**
 * The curl lines that the demo and the examples print, under `# <status>: <what>` labels, run
 * with the real curl: a printed line is only worth something if it answers as labelled.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Labelled {
  expected: number
  what: string
  command: string
}

/** The `# NNN: what` labels of `output`, each with the line under it. */
export function labelledCommands (output: string): Labelled[] {
  const lines = output.trim().split('\n')
  const found: Labelled[] = []
  for (let i = 0; i < lines.length; i++) {
    const label = /^# (\d{3}): (.*)$/.exec(lines[i] as string)
    if (label !== null) found.push({ expected: Number(label[1]), what: label[2] as string, command: lines[i + 1] as string })
  }
  return found
}

/** Runs a printed `curl -i …` line as is (through bash, as pasted) and returns the status. */
export async function curlStatus (command: string): Promise<number> {
  if (!command.startsWith('curl -i ')) throw new Error(`not a curl -i line: ${command}`)
  const { stdout } = await run('bash', ['-c', command.replace(/^curl -i /, "curl -s -o /dev/null -w '%{http_code}' ")])
  return Number(stdout)
}
