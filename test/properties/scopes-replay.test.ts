/**
 * Properties of scope matching (lib/scopes.ts) and of the DPoP replay key (lib/dpop/replay.ts).
 *
 * Scopes, against a model written here: a claim holds the whitespace-separated words of a string
 * (RFC 6749 §3.3 separates with SP; any whitespace run is accepted, as docs and
 * test/units/scopes.test.ts say) or the string elements of an array; a required scope is held
 * only when equal to one of them (no prefix, no case folding, an array element is one whole
 * value); `all` needs every required scope, `any` one, none required passes. The 403 a refusal
 * gives agrees: its description names exactly the missing scopes (all-of) and its challenge
 * `scope=` is the route's whole list for all-of OAuth scope claims, none otherwise.
 *
 * Replay key: for any sequence of (proof key thumbprint, jti) pairs checked against a real
 * MemoryReplayStore, a check is refused as a replay exactly when the same pair was checked
 * before (another key reusing a jti is not a replay), and every stored key has one fixed shape:
 * the thumbprint, a dot, and 43 base64url characters (SHA-256 of the jti), whatever the jti holds.
 */
import fc from 'fast-check'
import t from 'tap'
import { ReplayGuard } from '../../lib/dpop/replay.js'
import { AuthError } from '../../lib/errors.js'
import { routeRequirements, satisfies, scopeRefusal } from '../../lib/scopes.js'
import { MemoryReplayStore } from '../../lib/stores/memory-replay.js'
import type { ReplayStore } from '../../lib/stores/types.js'
import { fcOptions } from '../helpers/property.js'

// ECMAScript WhiteSpace and LineTerminator (ECMA-262 §12.2, §12.3): what "whitespace" means above.
const WHITESPACE = new Set(['\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006',
  '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'])

function held (value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  if (typeof value !== 'string') return []
  const words: string[] = []
  let word = ''
  for (const char of value) {
    if (WHITESPACE.has(char)) { if (word !== '') words.push(word); word = '' } else word += char
  }
  if (word !== '') words.push(word)
  return words
}

const VOCABULARY = ['read:messages', 'read:message', 'Read:messages', 'read:messagesX', 'write:messages', 'admin', 'admin:all', 'a', 'b', '!', '~']
const required = fc.uniqueArray(fc.constantFrom(...VOCABULARY), { maxLength: 4 })
const separator = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000', ',', ', ', '')
const word = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...VOCABULARY) }, { weight: 1, arbitrary: fc.string({ maxLength: 5 }) })
const claimValue = fc.oneof(
  fc.array(fc.tuple(separator, word), { maxLength: 5 }).map((parts) => parts.map(([s, w]) => s + w).join('')),
  fc.array(fc.oneof(word, fc.integer(), fc.constant(null), word.map((w) => `${w} admin`)), { maxLength: 5 }),
  fc.oneof(fc.integer(), fc.constant(null), fc.constant({ admin: true }), fc.boolean())
)
const CLAIMS = ['scope', 'scp', 'permissions', 'roles']

t.test('satisfies() is whole-value matching over the claim\'s words, all or any; a refusal names what is missing', async (t) => {
  fc.assert(fc.property(required, fc.constantFrom('all' as const, 'any' as const), fc.constantFrom(...CLAIMS), fc.dictionary(fc.constantFrom(...CLAIMS), claimValue),
    (scopes, match, claim, claims) => {
      const route = routeRequirements({ scopes, match, claim })
      const have = new Set(held(claims[claim]))
      const want = scopes.length === 0 || (match === 'all' || scopes.length === 1 ? scopes.every((s) => have.has(s)) : scopes.some((s) => have.has(s)))
      const got = satisfies(claims as never, route)
      if (got !== want) throw new Error(`${JSON.stringify({ scopes, match, claim, claims })}: satisfies ${String(got)}, model ${String(want)}`)
      if (got) return
      const refusal = scopeRefusal(claims as never, route, 'bearer')
      const allOf = match === 'all' || scopes.length === 1
      const missing = scopes.filter((s) => !have.has(s))
      if (allOf && !refusal.error_description.endsWith(` ${missing.join(', ')}`)) throw new Error(`description ${refusal.error_description} does not name ${missing.join(', ')}`)
      const challengeScopes = allOf && claim !== 'roles' ? scopes : []
      if (JSON.stringify(refusal.requiredScopes) !== JSON.stringify(challengeScopes)) throw new Error(`scope= ${JSON.stringify(refusal.requiredScopes)}, expected ${JSON.stringify(challengeScopes)}`)
    }), fcOptions(2000))
  t.pass('property held')
})

const JKT = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)
const jti = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), fc.constantFrom('a', 'a.b', 'jti', '.'))

t.test('the replay key: a replay exactly when the same (jkt, jti) pair came before; one key shape', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1, 2, 3)), { minLength: 1, maxLength: 12 }), fc.uniqueArray(JKT, { minLength: 3, maxLength: 3 }), fc.uniqueArray(jti, { minLength: 4, maxLength: 4 }),
    fc.boolean(), async (sequence, jkts, jtis, synchronous) => {
      const keys: string[] = []
      const memory = new MemoryReplayStore({ maxEntries: 1000 })
      // A recording wrapper answering through the real store: at once (the built-in store's path,
      // checkAndRememberNow) or asynchronously (a shared store's path, with its timeout).
      const store: ReplayStore = synchronous
        ? {
            checkAndRemember: async (key, ttl) => await memory.checkAndRemember(key, ttl),
            checkAndRememberNow: (key, ttl) => { keys.push(key); return memory.checkAndRememberNow(key, ttl) }
          }
        : { checkAndRemember: async (key, ttl) => { keys.push(key); return await memory.checkAndRemember(key, ttl) } }
      const guard = new ReplayGuard(store, 330, 1000)
      const seen = new Set<string>()
      for (const [k, j] of sequence) {
        const pair = `${k}|${j}`
        let replayed = false
        try {
          await guard.check(jkts[k] as string, jtis[j] as string)
        } catch (err) {
          if (!(err instanceof AuthError) || err.reason !== 'proof_replayed') throw err
          replayed = true
        }
        if (replayed !== seen.has(pair)) throw new Error(`pair ${pair}: replayed ${String(replayed)}, seen before ${String(seen.has(pair))}`)
        seen.add(pair)
      }
      for (const key of keys) if (!/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/.test(key)) throw new Error(`key of another shape: ${key}`)
      // Distinct pairs, distinct keys.
      const byKey = new Map<string, string>()
      sequence.forEach(([k, j], i) => {
        const pair = `${k}|${j}`
        const other = byKey.get(keys[i] as string)
        if (other !== undefined && other !== pair) throw new Error(`pairs ${other} and ${pair} share the key ${keys[i] as string}`)
        byKey.set(keys[i] as string, pair)
      })
    }), fcOptions(300))
  t.pass('property held')
})
