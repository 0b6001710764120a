/**
 * GC storm: a million weakly held values dropped at once.
 *
 * Fills a cache (`weakValues: true`, capacity = entries) with values held by nothing else,
 * forces one full collection, and measures how the index drains: the wall time from the
 * collection until the index is empty, the largest index size seen at any point (after
 * every write and every check), the notices lost to the full cleanup queue, and the
 * reconciliation passes that made up for them.
 *
 * Two scenarios, each on its own cache:
 * - `reads`: after every turn of the event loop, one read (`getOption` of a random key);
 *   after an overflow, that read reconciles the whole index at once.
 * - `idle`: no reads; each turn only asks the cache's `size`. The cleanup consumer, the
 *   reconciliation that an operation runs after lost notices (here, `size`), and the
 *   periodic one of the sweeper (every `sweepInterval`) drain the index.
 *
 * Usage: npm run gc-storm [-- --entries 1000000 --queue 64 --sweep 1000]
 * (needs `node --expose-gc`, which the npm script passes).
 */
import { Console, Effect } from "effect"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { ChronoCache } from "../src/index.js"

const { values: args } = parseArgs({
  options: {
    entries: { type: "string", default: "1000000" },
    queue: { type: "string", default: "64" },
    sweep: { type: "string", default: "1000" },
    "max-seconds": { type: "string", default: "60" }
  }
})
const entries = Number(args.entries)
const queueCapacity = Number(args.queue)
const sweepMillis = Number(args.sweep)
const maxMillis = Number(args["max-seconds"]) * 1000

type Scenario = "reads" | "idle"

interface Row {
  readonly scenario: Scenario
  readonly fillMillis: number
  readonly gcMillis: number
  readonly overflowMillis: number
  readonly emptyMillis: number
  readonly turns: number
  readonly peakSize: number
  readonly overflows: number
  readonly reconciliations: number
  readonly collected: number
  readonly heapAtFullMB: number
}

const forceGc = (): void => {
  if (globalThis.gc === undefined) throw new Error("run with node --expose-gc (npm run gc-storm does)")
  globalThis.gc()
}

/** One turn of the event loop, so that weak targets of the last job and finalizers are released. */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

const megabytes = (bytes: number) => Math.round(bytes / 1024 / 1024)

const storm = (scenario: Scenario): Effect.Effect<Row, unknown> =>
  Effect.gen(function*() {
    const cache = yield* ChronoCache.make({
      lookup: (id: number) => Effect.sync(() => ({ id })),
      capacity: entries,
      weakValues: true,
      cleanupQueueCapacity: queueCapacity,
      // In `reads`, the sweeper is kept out of the way, so that only reads reconcile.
      sweepInterval: scenario === "reads" ? "1 hour" : sweepMillis
    })
    let peakSize = 0
    const observe = Effect.map(cache.size, (size) => {
      if (size > peakSize) peakSize = size
      return size
    })

    // Fill. The values are held by `alive` until the fill ends, so that a collection during
    // the fill takes none of them and all of them die together, at the forced collection.
    const fillStart = performance.now()
    let alive: Array<{ readonly id: number }> | undefined = Array.from({ length: entries }, (_, id) => ({ id }))
    const values = alive
    yield* Effect.forEach(
      values,
      (value) => Effect.zipRight(cache.set(value.id, value), observe),
      { discard: true }
    )
    const fillMillis = performance.now() - fillStart
    const heapAtFullMB = megabytes(process.memoryUsage().heapUsed)
    values.length = 0
    alive = undefined

    // One forced collection, alone in its job: a value whose `WeakRef` was made or read in a
    // job stays alive until that job ends. Hence a turn after the fill, and another after
    // `cacheStats`, which reconciles (reads every cell) if notices were lost meanwhile.
    yield* turn
    const before = yield* cache.cacheStats
    yield* turn
    const gcStart = performance.now()
    forceGc()
    const gcEnd = performance.now()

    // Drain: turn the event loop (and read, in the `reads` scenario) until the index is empty.
    let turns = 0
    let size = yield* observe
    let overflowMillis = NaN
    while (size > 0 && performance.now() - gcEnd < maxMillis) {
      yield* turn
      turns++
      if (Number.isNaN(overflowMillis) && (yield* cache.cacheStats).cleanupOverflows > before.cleanupOverflows) {
        overflowMillis = performance.now() - gcEnd
      }
      if (scenario === "reads") yield* cache.getOption(Math.floor(Math.random() * entries))
      size = yield* observe
    }
    const emptyMillis = size === 0 ? performance.now() - gcEnd : NaN
    const stats = yield* cache.cacheStats
    return {
      scenario,
      fillMillis,
      gcMillis: gcEnd - gcStart,
      overflowMillis,
      emptyMillis,
      turns,
      peakSize,
      overflows: stats.cleanupOverflows - before.cleanupOverflows,
      reconciliations: stats.reconciliations - before.reconciliations,
      collected: stats.collected - before.collected,
      heapAtFullMB
    }
  }).pipe(Effect.scoped)

const table = (rows: ReadonlyArray<Row>): string => {
  const header = [
    "scenario",
    "fill ms",
    "gc ms",
    "first overflow ms",
    "empty after ms",
    "turns",
    "peak index size",
    "overflows",
    "reconciliations",
    "collected",
    "heap at full MB"
  ]
  const lines = rows.map((row) => [
    row.scenario,
    row.fillMillis.toFixed(0),
    row.gcMillis.toFixed(0),
    Number.isNaN(row.overflowMillis) ? "none" : row.overflowMillis.toFixed(1),
    Number.isNaN(row.emptyMillis) ? "not empty" : row.emptyMillis.toFixed(1),
    String(row.turns),
    String(row.peakSize),
    String(row.overflows),
    String(row.reconciliations),
    String(row.collected),
    String(row.heapAtFullMB)
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)))
  const format = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((cell, i) => cell.padStart(widths[i]!)).join(" | ")} |`
  return [format(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(format)].join("\n")
}

const program = Effect.gen(function*() {
  yield* Console.log(
    `GC storm: ${entries} weak entries (capacity ${entries}), cleanup queue ${queueCapacity}, ` +
      `sweep every ${sweepMillis} ms, Node ${process.version}`
  )
  const rows: Array<Row> = []
  for (const scenario of ["reads", "idle"] as const) {
    rows.push(yield* storm(scenario))
    yield* turn
    forceGc()
  }
  yield* Console.log(table(rows))
  const failed = rows.filter((row) => row.peakSize > entries || Number.isNaN(row.emptyMillis))
  if (failed.length > 0) {
    yield* Console.error(`FAILED: ${failed.map((row) => row.scenario).join(", ")} did not drain within bounds`)
    process.exitCode = 1
  }
})

Effect.runPromise(program).catch((error: unknown) => {
  process.exitCode = 1
  return Effect.runPromise(Console.error(error))
})
