/**
 * fast-check settings shared by the property tests. `npm test` runs a bounded number of cases
 * (fast: the suite's time matters on 2 cores); `FC_NUM_RUNS=100000 npx tap test/…` runs longer,
 * and `FC_SEED=<seed> FC_PATH=<path>` replays the counterexample a failure printed. fast-check puts
 * the seed and path in the error it throws, and tap prints that error, so a failure always shows
 * how to reproduce it.
 */
import type { Parameters } from 'fast-check'

/** Runs per property: `FC_NUM_RUNS`, else `runs` (the bounded default of the property). */
export function fcOptions<T> (runs = 200): Parameters<T> {
  const env = process.env.FC_NUM_RUNS
  const numRuns = env !== undefined && env !== '' ? Number(env) : runs
  if (!Number.isSafeInteger(numRuns) || numRuns < 1) throw new Error(`FC_NUM_RUNS must be a positive integer, got ${String(env)}`)
  const options: Parameters<T> = { numRuns, verbose: 1 }
  if (process.env.FC_SEED !== undefined && process.env.FC_SEED !== '') options.seed = Number(process.env.FC_SEED)
  if (process.env.FC_PATH !== undefined && process.env.FC_PATH !== '') options.path = process.env.FC_PATH
  return options
}
