/** The AuthError a synchronous call throws; any other throw, or none, fails the test. */
import { AuthError } from '../../lib/errors.js'

export function refusal (fn: () => unknown): AuthError {
  try {
    fn()
  } catch (err) {
    if (err instanceof AuthError) return err
    throw err
  }
  throw new Error('expected a refusal')
}

/** The AuthError a call rejects (or throws) with; any other failure, or none, fails the test. */
export async function rejection (fn: () => unknown): Promise<AuthError> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof AuthError) return err
    throw err
  }
  throw new Error('expected a refusal')
}
