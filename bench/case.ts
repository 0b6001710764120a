/**
 * Runs one implementation of one case in this process and prints its measurements as JSON
 * lines. The driver (`run.ts`) starts a fresh process for every case, implementation and
 * round, so that no case inherits another's JIT state, heap or garbage.
 *
 * Usage: node --expose-gc --import tsx bench/case.ts <case> <impl> [--quick]
 */
import { CASES } from "./cases/index.js"
import type { ResultLine, SkipLine } from "./lib/protocol.js"

const [caseName, impl] = process.argv.slice(2)
const quick = process.argv.includes("--quick")
const def = CASES.find((c) => c.name === caseName)
if (def === undefined || impl === undefined || !def.impls.includes(impl)) {
  console.error(`usage: case.ts <case> <impl> [--quick]; cases: ${CASES.map((c) => c.name).join(", ")}`)
  process.exit(2)
}

/** True when the error says that ChronoCache itself could not be loaded. */
const isEngineMissing = (error: unknown): boolean =>
  error instanceof Error
  && ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND" || /Cannot find module/.test(error.message))

try {
  for (const m of await def.run(impl, { quick })) {
    const line: ResultLine = { case: def.name, impl, ...m }
    console.log(JSON.stringify(line))
  }
} catch (error) {
  if (impl === "chrono" && isEngineMissing(error)) {
    const line: SkipLine = { case: def.name, impl, skipped: "ChronoCache could not be loaded" }
    console.log(JSON.stringify(line))
  } else {
    throw error
  }
}
// Background timers of a cache that failed to close must not keep the process alive.
process.exit(0)
