/**
 * Weak-value soak: a long, bounded mix of writes of fresh objects, reads, invalidations and
 * forced collections on one weak cache, checking two things:
 *
 * - the index never holds more than `capacity` entries: `size` is read after every single
 *   operation, and any excess is counted as a violation;
 * - the heap stays flat: heap used after a forced collection is printed at the start (after
 *   a warm-up round), in the middle and at the end.
 *
 * A ring of strong references keeps a bounded share of the written values alive (more than
 * the capacity), so that live and dead entries mix, live ones alone can fill the cache, and
 * eviction has to choose between them. The cleanup queue is small, so
 * that collections overflow it and reconciliations run too.
 *
 * Usage: npm run weak-soak [-- --seconds 60] [-- --rounds 200] [--capacity 10000]
 * (`--rounds` wins over `--seconds`; needs `node --expose-gc`, which the npm script passes).
 * Exits with code 1 if the bound was ever exceeded or the heap grew past the tolerance.
 */
import { Console, Effect } from "effect"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { ChronoCache } from "../src/index.js"

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    rounds: { type: "string" },
    capacity: { type: "string", default: "10000" },
    "ops-per-round": { type: "string", default: "20000" },
    queue: { type: "string", default: "64" }
  }
})
const capacity = Number(args.capacity)
const opsPerRound = Number(args["ops-per-round"])
const queueCapacity = Number(args.queue)
const rounds = args.rounds === undefined ? undefined : Number(args.rounds)
const seconds = Number(args.seconds)
/** Keys are drawn from a space four times the capacity, so that writes evict. */
const keySpace = capacity * 4
/** How many values the soak itself keeps alive at any time: more than fit in the cache. */
const ringSize = capacity * 2
/** Heap growth from the start to the end that still counts as flat. */
const toleranceBytes = 16 * 1024 * 1024

interface Payload {
  readonly key: number
  readonly body: Array<number>
}

const forceGc = (): void => {
  if (globalThis.gc === undefined) throw new Error("run with node --expose-gc (npm run weak-soak does)")
  globalThis.gc()
}

/** One turn of the event loop: releases weak targets of the last job and runs finalizers. */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Heap used after a forced collection, between two turns. */
const settledHeap = Effect.gen(function*() {
  yield* turn
  forceGc()
  yield* turn
  forceGc()
  return process.memoryUsage().heapUsed
})

const megabytes = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

// A small deterministic generator, so that two runs with the same arguments do the same.
let seed = 0x2545f491
const random = (bound: number): number => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) % bound
}

const payload = (key: number): Payload => ({ key, body: Array.from({ length: 8 }, (_, i) => key + i) })

const program = Effect.gen(function*() {
  const cache = yield* ChronoCache.make({
    lookup: (key: number) => Effect.sync(() => payload(key)),
    capacity,
    weakValues: true,
    cleanupQueueCapacity: queueCapacity,
    sweepInterval: "100 millis"
  })
  // Full from the start (with values the cache has never seen), so that its own size stays
  // constant and does not show up as heap growth.
  const ring: Array<Payload> = Array.from({ length: ringSize }, (_, n) => payload(-1 - n))
  let ringNext = 0
  let operations = 0
  let violations = 0
  let maxSize = 0
  let collections = 0

  const check = Effect.map(cache.size, (size) => {
    operations++
    if (size > maxSize) maxSize = size
    if (size > capacity) violations++
  })

  /** One operation, chosen at random; the values it makes are dropped unless kept in the ring. */
  const operation = Effect.suspend(() => {
    const key = random(keySpace)
    const dice = random(100)
    if (dice < 35) {
      const value = payload(key)
      if (dice < 25) {
        ring[ringNext] = value
        ringNext = (ringNext + 1) % ringSize
      }
      return cache.set(key, value)
    }
    if (dice < 70) return Effect.asVoid(cache.get(key))
    if (dice < 90) return Effect.asVoid(cache.getOption(key))
    if (dice < 95) return Effect.asVoid(cache.contains(key))
    return cache.invalidate(key)
  })

  const round = Effect.gen(function*() {
    for (let n = 0; n < opsPerRound; n++) {
      yield* operation
      yield* check
      // A forced collection now and then in the middle of the mix, not only between rounds.
      if (n % 5_000 === 4_999) {
        yield* turn
        forceGc()
        collections++
        yield* check
      }
    }
    yield* turn
    forceGc()
    collections++
    yield* turn
    yield* check
  })

  const started = performance.now()
  const done = (completed: number) =>
    rounds !== undefined ? completed >= rounds : performance.now() - started >= seconds * 1000
  const halfway = (completed: number) =>
    rounds !== undefined ? completed >= Math.ceil(rounds / 2) : performance.now() - started >= seconds * 500

  yield* Console.log(
    `Weak soak: capacity ${capacity}, ${keySpace} keys, ${ringSize} values kept alive, cleanup queue ` +
      `${queueCapacity}, ${opsPerRound} operations a round, ` +
      (rounds !== undefined ? `${rounds} rounds` : `${seconds} s`) + `, Node ${process.version}`
  )

  // Warm-up round, then the starting heap.
  yield* round
  let completed = 1
  const heapStart = yield* settledHeap
  let heapMiddle: number | undefined
  while (!done(completed)) {
    yield* round
    completed++
    if (heapMiddle === undefined && halfway(completed)) heapMiddle = yield* settledHeap
  }
  const heapEnd = yield* settledHeap
  heapMiddle ??= heapEnd
  const stats = yield* cache.cacheStats
  const elapsed = (performance.now() - started) / 1000

  const growth = heapEnd - heapStart
  const flat = growth <= toleranceBytes
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["rounds", String(completed)],
    ["operations (each checked)", String(operations)],
    ["forced collections", String(collections)],
    ["elapsed s", elapsed.toFixed(1)],
    ["largest index size", `${maxSize} (capacity ${capacity})`],
    ["bound violations", String(violations)],
    ["heap after gc: start MB", megabytes(heapStart)],
    ["heap after gc: middle MB", megabytes(heapMiddle)],
    ["heap after gc: end MB", megabytes(heapEnd)],
    ["heap growth start -> end MB", `${megabytes(growth)} (tolerance ${megabytes(toleranceBytes)})`],
    ["hits / misses", `${stats.hits} / ${stats.misses}`],
    ["evictions: size / collected", `${stats.evictions.size} / ${stats.evictions.collected}`],
    ["cleanup overflows", String(stats.cleanupOverflows)],
    ["reconciliations", String(stats.reconciliations)],
    ["cleanup queue depth at end", String(stats.cleanupQueueDepth)]
  ]
  const width = Math.max(...rows.map(([name]) => name.length))
  yield* Console.log(rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join("\n"))
  if (violations > 0 || !flat) {
    yield* Console.error(
      `FAILED: ${violations} bound violations; heap ${flat ? "flat" : "grew past the tolerance"}`
    )
    process.exitCode = 1
  }
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  process.exitCode = 1
  return Effect.runPromise(Console.error(error))
})
