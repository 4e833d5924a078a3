// tap coverage map: which files each test file's coverage counts for.
// Tests under test/examples and test/package exercise the built package (dist/) and compiled
// examples (.build/) in spawned programs, not lib/: they record no coverage, so a program that a
// race leaves instrumented cannot put non-library files into the 100% gate. Everything else: the default.
export default function coverageMap (testFile) {
  return /(^|[\\/])test[\\/](examples|package)[\\/]/.test(testFile) ? null : []
}
