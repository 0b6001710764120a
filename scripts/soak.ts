/**
 * Soak: one million cache operations with injected failures, defects, self-interruptions,
 * hangs and interrupted callers, on the real clock.
 *
 *   npm run soak                         # 1,000,000 operations
 *   SOAK_OPERATIONS=200000 npm run soak  # fewer
 *
 * Half of the operations run against a cache with `abandonedLoads: "complete"`, the other
 * half against one with `"interrupt"`. It checks what no single test can show at this scale:
 * every caller started gets an answer (no fiber or promise is left waiting), no load is left
 * running once the last hang has reached `loadTimeout`, the size never goes above `capacity`,
 * the cache refuses calls once closed, and the heap does not grow with the number of
 * operations. It exits with status 1 when one of these does not hold.
 *
 * Run with `--expose-gc` (the npm script does) so that the heap figures are taken after full
 * collections.
 */
import { Data, Effect, Exit, Fiber, Logger, Scope } from "effect"
import { CacheClosedError, ChronoCache } from "../src/index.js"

const OPERATIONS = Number(process.env["SOAK_OPERATIONS"] ?? 1_000_000)
/** Operations started together; each batch is awaited before the next starts. */
const BATCH = 1_000
const KEYS = 3_000
const CAPACITY = 1_000
/** A batch whose callers are not all answered by then is counted, not waited for forever. */
const BATCH_GRACE = "10 seconds"

class SoakFailure extends Data.TaggedError("SoakFailure")<{ readonly key: number }> {}

/** A small seeded generator (mulberry32), so that two runs do the same operations. */
const makeRandom = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const random = makeRandom(20_240_601)

/** Keys skewed towards the small ones, so that hits, joins and evictions all happen. */
const nextKey = (): number => Math.floor(KEYS * random() ** 3)

const loads = { started: 0, hangs: 0 }

/** The loader: mostly quick successes, with every kind of fault mixed in. */
const lookup = (key: number): Effect.Effect<string, SoakFailure> =>
  Effect.suspend(() => {
    loads.started++
    const r = random()
    if (r < 0.1) return Effect.succeed(`v${key}`)
    if (r < 0.8) return Effect.as(Effect.yieldNow(), `v${key}`)
    if (r < 0.88) return Effect.zipRight(Effect.yieldNow(), Effect.fail(new SoakFailure({ key })))
    if (r < 0.91) return Effect.die(new Error(`soak defect for key ${key}`))
    if (r < 0.93) return Effect.interrupt
    if (r < 0.995) return Effect.as(Effect.sleep("1 millis"), `v${key}`)
    loads.hangs++
    return Effect.never // bounded by loadTimeout
  })

const heapMegabytes = (): number => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) {
    gc()
    gc()
  }
  return process.memoryUsage().heapUsed / 1024 / 1024
}

const counts = {
  get: 0,
  set: 0,
  invalidate: 0,
  refresh: 0,
  interruptedGet: 0,
  promise: 0,
  abortedPromise: 0,
  read: 0,
  invalidateAll: 0
}
let warnings = 0
let maxSize = 0

interface PhaseResult {
  readonly operations: number
  readonly waiting: number
  readonly pendingLoads: number
  readonly closedRefuses: boolean
  readonly line: string
}

/** `operations` random operations against a fresh cache, then its close. */
const phase = (abandonedLoads: "complete" | "interrupt", operations: number) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    // Failed loads are logged at warning level: count them rather than print them all.
    const counting = Logger.make(() => {
      warnings++
    })
    const cache = yield* ChronoCache.make({
      lookup,
      capacity: CAPACITY,
      loadTimeout: "5 millis",
      timeToLive: "1 second",
      sweepInterval: "100 millis",
      abandonedLoads,
      name: `soak-${abandonedLoads}`
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, counting)), Scope.extend(scope))

    const observeSize = cache.size.pipe(
      Effect.tap((size) =>
        Effect.sync(() => {
          if (size > maxSize) maxSize = size
        })
      ),
      Effect.ignore
    )

    /** One random operation; its errors are answers, not failures of the soak. */
    const operation = (): Effect.Effect<unknown> => {
      const key = nextKey()
      const r = random()
      let effect: Effect.Effect<unknown, unknown>
      if (r < 0.55) {
        counts.get++
        effect = cache.get(key)
      } else if (r < 0.65) {
        counts.set++
        effect = cache.set(key, `s${key}`)
      } else if (r < 0.7) {
        counts.invalidate++
        effect = cache.invalidate(key)
      } else if (r < 0.8) {
        counts.refresh++
        effect = cache.refresh(key)
      } else if (r < 0.9) {
        counts.interruptedGet++
        effect = Effect.fork(cache.get(key)).pipe(
          Effect.tap(() => Effect.yieldNow()),
          Effect.flatMap(Fiber.interrupt)
        )
      } else if (r < 0.96) {
        const abort = random() < 0.5
        counts.promise++
        if (abort) counts.abortedPromise++
        effect = Effect.promise(() => {
          const controller = new AbortController()
          const promise = cache.getPromise(key, { signal: controller.signal })
          if (abort) queueMicrotask(() => controller.abort("soak abort"))
          return promise.then(() => undefined, () => undefined)
        })
      } else if (r < 0.9999) {
        counts.read++
        effect = random() < 0.5 ? cache.getOption(key) : cache.contains(key)
      } else {
        counts.invalidateAll++
        effect = cache.invalidateAll
      }
      return effect.pipe(Effect.exit, Effect.zipLeft(observeSize))
    }

    const stragglers: Array<Fiber.RuntimeFiber<unknown>> = []
    let done = 0
    while (done < operations) {
      const size = Math.min(BATCH, operations - done)
      const fibers: Array<Fiber.RuntimeFiber<unknown>> = []
      for (let i = 0; i < size; i++) fibers.push(yield* Effect.fork(operation()))
      const all = yield* Fiber.awaitAll(fibers).pipe(Effect.timeout(BATCH_GRACE), Effect.exit)
      if (Exit.isFailure(all)) {
        for (const fiber of fibers) if (fiber.unsafePoll() === null) stragglers.push(fiber)
      }
      done += size
    }

    // Let the last hangs reach loadTimeout, then look at what is left.
    yield* Effect.sleep("100 millis")
    const waiting = stragglers.filter((fiber) => fiber.unsafePoll() === null).length
    const stats = yield* cache.cacheStats
    yield* Scope.close(scope, Exit.void)
    const afterClose = yield* Effect.exit(cache.get(0))
    const closedRefuses = Exit.isFailure(afterClose) && afterClose.cause._tag === "Fail" &&
      afterClose.cause.error instanceof CacheClosedError
    const line = `  abandonedLoads "${abandonedLoads}": ${done} operations; loads ${stats.loadSuccesses} ok, ` +
      `${stats.loadFailures} failed (${stats.loadTimeouts} timed out); ${stats.hits} hits ` +
      `(${stats.joins} joins), ${stats.misses} misses; evictions ${stats.evictions.size} by size, ` +
      `${stats.evictions.expired} expired; waiting ${waiting}, pending loads ${stats.pendingLoads}`
    return { operations: done, waiting, pendingLoads: stats.pendingLoads, closedRefuses, line } as PhaseResult
  })

const program = Effect.gen(function*() {
  const startedAt = Date.now()
  const heapBefore = heapMegabytes()
  const first = yield* phase("complete", Math.ceil(OPERATIONS / 2))
  const heapMiddle = heapMegabytes()
  const second = yield* phase("interrupt", Math.floor(OPERATIONS / 2))
  const heapAfter = heapMegabytes()
  const seconds = (Date.now() - startedAt) / 1000

  const results = [first, second]
  const operations = first.operations + second.operations
  const waiting = first.waiting + second.waiting
  const pendingLoads = first.pendingLoads + second.pendingLoads
  const lines = [
    `operations: ${operations} in ${seconds.toFixed(1)} s (${Math.round(operations / seconds)} per second)`,
    `  ${Object.entries(counts).map(([name, n]) => `${name} ${n}`).join(", ")}`,
    ...results.map((result) => result.line),
    `loads started: ${loads.started} (${loads.hangs} hung until loadTimeout); warnings logged: ${warnings}`,
    `max size seen: ${maxSize} (capacity ${CAPACITY})`,
    `fibers left waiting: ${waiting}`,
    `pending loads at the end: ${pendingLoads}`,
    `heap after gc: ${heapBefore.toFixed(1)} MB before, ${heapMiddle.toFixed(1)} MB after the first half, ` +
    `${heapAfter.toFixed(1)} MB after all operations`,
    `after close: ${
      results.every((result) => result.closedRefuses) ? "calls fail with CacheClosedError" : "NOT REFUSED"
    }`
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
  const ok = waiting === 0 && pendingLoads === 0 && maxSize <= CAPACITY &&
    results.every((result) => result.closedRefuses)
  if (!ok) {
    process.stdout.write("soak: FAILED\n")
    process.exitCode = 1
  }
})

Effect.runPromise(program).catch((error: unknown) => {
  process.stderr.write(`soak: ${String(error)}\n`)
  process.exitCode = 1
})
