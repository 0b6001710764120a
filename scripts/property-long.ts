/**
 * Runs the property test (test/property.test.ts) with many more programs than CI does.
 *
 *   npm run test:property-long            # 10,000 programs
 *   npm run test:property-long -- 50000   # as many as asked
 *
 * Set PROPERTY_SEED to replay the seed of a failing run that fast-check printed.
 */
import { startVitest } from "vitest/node"

const runs = process.argv[2] ?? process.env["NUM_RUNS"] ?? "10000"
if (!/^[1-9][0-9]*$/.test(runs)) {
  process.stderr.write(`property-long: the number of runs must be a positive integer, got ${runs}\n`)
  process.exit(2)
}
// The test workers inherit the environment of this process.
process.env["NUM_RUNS"] = runs
process.stdout.write(`property-long: ${runs} programs\n`)

const vitest = await startVitest("test", ["test/property.test.ts"], { run: true, watch: false })
const failed = vitest === undefined || vitest.state.getCountOfFailedTests() > 0 || vitest.state.errorsSet.size > 0
await vitest?.close()
process.exit(failed ? 1 : 0)
