/**
 * Weak values stay bounded under GC pressure (guarantee 2 of the spec).
 *
 * The collector is forced with `globalThis.gc` (vitest runs the forks with `--expose-gc`).
 * A `WeakRef` target made or dereferenced during a job stays alive until that job ends, so
 * every forced collection first yields a turn of the event loop, and yields another after it
 * so that the registry's callbacks can run: see `collectUntil`.
 *
 * Some tests replace the cache's finalization registry (`registryFactory.make`) with one the
 * test controls: it records every cell registered and calls back only when told to (or
 * never), which is how a runtime that runs finalizers late, or not at all, behaves.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, FiberId, Option, TestClock } from "effect"
import { ChronoCache, type ChronoCacheError, InvalidOptionsError } from "../src/index.js"
import { type Registry, registryFactory, type WeakCell } from "../src/internal/weak.js"
import { settle } from "./utils/scheduling.js"

interface Value {
  readonly id: number
}

const SWEEP_MILLIS = 1_000

/** A weak cache of `Value`s whose lookup makes a fresh object for each load. */
const weakCache = (capacity: number, cleanupQueueCapacity?: number) =>
  ChronoCache.make({
    lookup: (id: number) => Effect.sync((): Value => ({ id })),
    capacity,
    weakValues: true,
    sweepInterval: SWEEP_MILLIS,
    ...(cleanupQueueCapacity === undefined ? {} : { cleanupQueueCapacity })
  })

/** One turn of the event loop: lets the collector's clean-up tasks and finalizers run. */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

const forceGc = () => {
  if (globalThis.gc === undefined) throw new Error("the tests of weak values need node --expose-gc")
  globalThis.gc()
}

/**
 * Forces collections until `done` holds: each round yields a turn, collects, and yields
 * another turn. Returns whether `done` held within `rounds` rounds.
 */
const collectUntil = <E>(done: Effect.Effect<boolean, E>, rounds = 20): Effect.Effect<boolean, E> =>
  Effect.gen(function*() {
    for (let round = 0; round < rounds; round++) {
      yield* turn
      forceGc()
      yield* turn
      if (yield* done) return true
    }
    return false
  })

/** Whether the value of every cell is gone (dereferences only after a turn, see above). */
const allDead = (cells: ReadonlyArray<WeakCell>) =>
  Effect.sync(() => cells.every((cell) => cell.ref.deref() === undefined))

/** A registry that the test controls, in place of the cache's `FinalizationRegistry`. */
interface ManualRegistry {
  /** Every cell registered, in order. */
  readonly cells: Array<WeakCell>
  /** Delivers a collection notice for `cell`, as the runtime's callback would. */
  notify(cell: WeakCell): void
}

/**
 * Replaces `registryFactory.make` for the caches built in this scope with a registry that
 * never calls back by itself, and restores the original when the scope closes.
 */
const manualRegistry = Effect.acquireRelease(
  Effect.sync(() => {
    const original = registryFactory.make
    let onCollected: (cell: WeakCell) => void = () => {}
    const manual: ManualRegistry = {
      cells: [],
      notify: (cell) => onCollected(cell)
    }
    registryFactory.make = (callback): Registry => {
      onCollected = callback
      return {
        register: (_target, held) => {
          manual.cells.push(held)
        },
        unregister: () => true
      }
    }
    return { original, manual }
  }),
  ({ original }) => Effect.sync(() => (registryFactory.make = original))
).pipe(Effect.map(({ manual }) => manual))

/** The cell registered for the `n`th weak value written (0-based). */
const cellAt = (manual: ManualRegistry, n: number): WeakCell => {
  const cell = manual.cells[n]
  if (cell === undefined) throw new Error(`no cell number ${n} was registered`)
  return cell
}

const range = (from: number, to: number): Array<number> => Array.from({ length: to - from }, (_, n) => from + n)

/**
 * Writes a fresh value for each id and returns the values `keep` chose, which stay alive as
 * long as the caller holds the array; the others are held by nothing but the cache. (A
 * value bound to a variable of a generator stays alive while the generator does, so the
 * values are made here, in a callback, never in the test's own generator.)
 */
const setAll = (
  cache: ChronoCache.ChronoCache<number, Value, never>,
  ids: ReadonlyArray<number>,
  keep: (id: number) => boolean = () => false
): Effect.Effect<Array<Value>, ChronoCacheError> =>
  Effect.suspend(() => {
    const kept: Array<Value> = []
    return Effect.as(
      Effect.forEach(ids, (id) => {
        const value = { id }
        if (keep(id)) kept.push(value)
        return cache.set(id, value)
      }, { discard: true }),
      kept
    )
  })

/** Whether the cache holds `value` for `key`, by identity. */
const holds = <K>(cache: ChronoCache.ChronoCache<K, Value, never>, key: K, value: Value) =>
  Effect.map(cache.getOption(key), (option) => Option.isSome(option) && option.value === value)

describe("ChronoCache", () => {
  describe("weakValues - collection storm", () => {
    it.effect("weakValues - a collection storm empties the index and counts the overflow", () =>
      Effect.gen(function*() {
        const count = 100_000
        const cache = yield* weakCache(count, 16)
        for (let id = 0; id < count; id++) yield* cache.set(id, { id })
        const before = yield* cache.cacheStats

        const overflowed = yield* collectUntil(Effect.map(cache.cacheStats, (s) => s.cleanupOverflows > 0))
        yield* cache.getOption(0)
        const afterOneRead = yield* cache.cacheStats
        const reads = yield* Effect.forEach(range(0, count), (id) => cache.getOption(id))
        const after = yield* cache.cacheStats

        expect(before.size).toBe(count)
        expect(before.collected).toBe(0)
        expect(overflowed).toBe(true)
        expect(afterOneRead.size).toBe(0)
        expect(afterOneRead.reconciliations).toBeGreaterThanOrEqual(1)
        expect(reads.every(Option.isNone)).toBe(true)
        expect(after.size).toBe(0)
        expect(after.cleanupOverflows).toBeGreaterThan(0)
        expect(after.reconciliations).toBeGreaterThanOrEqual(1)
        expect(after.collected).toBe(count)
        expect(after.evictions.collected).toBe(count)
        expect(after.evictions.size).toBe(0)
      }).pipe(Effect.scoped))

    it.scoped("weakValues - one lost notice reconciles every dead entry, not only the notified ones", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(1_000, 16)
        const kept = yield* setAll(cache, range(0, 1_000), (id) => id % 10 === 0)
        const deadCells = manual.cells.filter((_, n) => n % 10 !== 0)
        expect(yield* collectUntil(allDead(deadCells))).toBe(true)

        // Forty notices for a queue of sixteen (one may go straight to the waiting consumer):
        // some are lost to the overflow, and 860 dead entries get no notice at all.
        for (const cell of deadCells.slice(0, 40)) manual.notify(cell)
        const notified = yield* cache.cacheStats
        yield* cache.getOption(0)
        const stats = yield* cache.cacheStats

        expect(notified.cleanupOverflows).toBeGreaterThanOrEqual(1)
        expect(notified.cleanupQueueDepth).toBeLessThanOrEqual(16)
        expect(stats.size).toBe(kept.length)
        expect(stats.collected).toBe(900)
        expect(stats.reconciliations).toBe(1)
        for (const value of kept) expect(yield* holds(cache, value.id, value)).toBe(true)
      }))
  })

  describe("weakValues - values must be objects", () => {
    it.effect("weakValues - a loader returning a primitive fails every waiter and stores nothing", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        let loads = 0
        const cache = yield* ChronoCache.make({
          lookup: (key: string) =>
            Effect.zipRight(
              Effect.sync(() => loads++),
              Effect.as(Deferred.await(gate), key.length as unknown as object)
            ),
          capacity: 10,
          weakValues: true
        })
        const first = yield* Effect.fork(Effect.flip(cache.get("key")))
        const second = yield* Effect.fork(Effect.flip(cache.get("key")))
        yield* Effect.yieldNow()

        yield* Deferred.succeed(gate, undefined)
        const errors = [yield* Fiber.join(first), yield* Fiber.join(second)]
        const size = yield* cache.size
        const contains = yield* cache.contains("key")
        const option = yield* cache.getOption("key")
        const stats = yield* cache.cacheStats

        for (const error of errors) {
          expect(error).toBeInstanceOf(InvalidOptionsError)
          expect((error as InvalidOptionsError).option).toBe("weakValues")
        }
        expect(loads).toBe(1)
        expect(size).toBe(0)
        expect(contains).toBe(false)
        expect(Option.isNone(option)).toBe(true)
        expect(stats.loadFailures).toBe(1)
        expect(stats.loadSuccesses).toBe(0)
      }).pipe(Effect.scoped))

    it.effect("weakValues - set with a primitive fails with InvalidOptionsError and keeps the old value", () =>
      Effect.gen(function*() {
        const cache = yield* ChronoCache.make({
          lookup: (_: string): Effect.Effect<object | null> => Effect.succeed({}),
          capacity: 10,
          weakValues: true
        })
        const value = { kept: true }
        yield* cache.set("key", value)

        const number = yield* Effect.flip(cache.set("key", 42 as unknown as object))
        const nothing = yield* Effect.flip(cache.set("key", null))
        const absent = yield* Effect.flip(cache.set("other", "text" as unknown as object))
        const option = yield* cache.getOption("key")
        const size = yield* cache.size

        for (const error of [number, nothing, absent]) {
          expect(error).toBeInstanceOf(InvalidOptionsError)
          expect((error as InvalidOptionsError).option).toBe("weakValues")
        }
        expect(Option.isSome(option) && option.value === value).toBe(true)
        expect(size).toBe(1)
      }).pipe(Effect.scoped))
  })

  describe("weakValues - stale notices", () => {
    it.scoped("weakValues - a key written again after its old value died is never removed by the stale notice", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(10)
        yield* cache.set(1, { id: 1 })
        yield* cache.set(2, { id: 2 })
        const oldCell = cellAt(manual, 0)
        const controlCell = cellAt(manual, 1)
        expect(yield* collectUntil(allDead([oldCell, controlCell]))).toBe(true)
        const fresh = { id: 1 }
        yield* cache.set(1, fresh)

        manual.notify(oldCell)
        manual.notify(controlCell)
        yield* turn
        const stats = yield* cache.cacheStats

        // The control notice proves that the consumer ran and acts on a notice it owns.
        expect(Option.isNone(yield* cache.getOption(2))).toBe(true)
        expect(stats.collected).toBe(1)
        expect(stats.size).toBe(1)
        expect(stats.cleanupQueueDepth).toBe(0)
        expect(yield* holds(cache, 1, fresh)).toBe(true)
      }))

    it.scoped("weakValues - a key invalidated and written again is never removed by the stale notice", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(10)
        yield* cache.set(1, { id: 1 })
        const oldCell = cellAt(manual, 0)
        expect(yield* collectUntil(allDead([oldCell]))).toBe(true)
        yield* cache.invalidate(1)
        const fresh = { id: 1 }
        yield* cache.set(1, fresh)

        manual.notify(oldCell)
        yield* turn
        const stats = yield* cache.cacheStats

        expect(stats.collected).toBe(0)
        expect(stats.size).toBe(1)
        expect(yield* holds(cache, 1, fresh)).toBe(true)
      }))
  })

  describe("weakValues - the bound does not rest on finalizers", () => {
    it.scoped("weakValues - without finalizers the index stays within capacity after every operation", () =>
      Effect.gen(function*() {
        yield* manualRegistry
        const capacity = 50
        const cache = yield* weakCache(capacity)
        const sizes: Array<number> = []
        const record = Effect.flatMap(cache.size, (size) => Effect.sync(() => sizes.push(size)))

        for (let round = 0; round < 4; round++) {
          for (let id = round * 40; id < round * 40 + 40; id++) {
            yield* cache.set(id, { id })
            yield* record
            yield* cache.get(id + 10_000)
            yield* record
          }
          yield* collectUntil(Effect.succeed(false), 1)
          for (let id = 0; id < 200; id += 7) {
            yield* cache.getOption(id)
            yield* record
          }
        }
        const stats = yield* cache.cacheStats

        expect(sizes.length).toBe(4 * (2 * 40 + 29))
        expect(Math.max(...sizes)).toBeLessThanOrEqual(capacity)
        expect(stats.size).toBeLessThanOrEqual(capacity)
        expect(stats.evictions.size + stats.collected).toBeGreaterThan(0)
      }))

    // With no notice queued, an eviction that took the least recently used entry without
    // looking for a dead one would evict the live key 1.
    it.effect("weakValues - dead entries are evicted before live ones", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(3)
        const oldest = { id: 1 }
        yield* cache.set(1, oldest)
        yield* cache.set(2, { id: 2 })
        yield* cache.set(3, { id: 3 })
        expect(yield* collectUntil(allDead([cellAt(manual, 1), cellAt(manual, 2)]))).toBe(true)
        const newest = { id: 4 }

        yield* cache.set(4, newest)
        const stats = yield* cache.cacheStats

        // Key 1 is the least recently used, but keys 2 and 3 are dead: one of them goes.
        expect(stats.size).toBe(3)
        expect(stats.evictions.size).toBe(0)
        expect(stats.collected).toBeGreaterThanOrEqual(1)
        expect(yield* holds(cache, 1, oldest)).toBe(true)
        expect(yield* holds(cache, 4, newest)).toBe(true)
      }).pipe(Effect.scoped))

    it.scoped("weakValues - dead entries whose notices wait in the queue are evicted before live ones", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(3)
        const oldest = { id: 1 }
        yield* cache.set(1, oldest)
        yield* setAll(cache, [2, 3])
        expect(yield* collectUntil(allDead([cellAt(manual, 1), cellAt(manual, 2)]))).toBe(true)
        const newest = { id: 4 }

        // No yield between the notices and the write: the consumer has not run yet.
        manual.notify(cellAt(manual, 1))
        manual.notify(cellAt(manual, 2))
        yield* cache.set(4, newest)
        const stats = yield* cache.cacheStats

        expect(stats.size).toBeLessThanOrEqual(3)
        expect(stats.evictions.size).toBe(0)
        expect(yield* holds(cache, 1, oldest)).toBe(true)
        expect(yield* holds(cache, 4, newest)).toBe(true)
      }))

    it.scoped("weakValues - a read that meets a dead entry removes it", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(10)
        for (let id = 0; id < 5; id++) yield* cache.set(id, { id })
        expect(yield* collectUntil(allDead(manual.cells))).toBe(true)
        const before = yield* cache.cacheStats

        const option = yield* cache.getOption(0)
        const afterOption = yield* cache.cacheStats
        const loaded = yield* cache.get(1)
        const afterGet = yield* cache.cacheStats

        expect(before.size).toBe(5)
        expect(before.collected).toBe(0)
        expect(Option.isNone(option)).toBe(true)
        expect(afterOption.size).toBe(4)
        expect(afterOption.collected).toBe(1)
        expect(afterOption.evictions.collected).toBe(1)
        expect(loaded.id).toBe(1)
        expect(afterGet.misses).toBe(1)
        expect(afterGet.collected).toBe(2)
        expect(afterGet.size).toBe(4)
        expect(afterGet.reconciliations).toBe(0)
      }))

    it.scoped("weakValues - the periodic reconciliation removes every dead entry without reads", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(100)
        const kept = yield* setAll(cache, range(0, 60), (id) => id % 3 === 0)
        const deadCells = manual.cells.filter((_, n) => n % 3 !== 0)
        expect(yield* collectUntil(allDead(deadCells))).toBe(true)

        yield* TestClock.adjust(SWEEP_MILLIS - 1)
        const early = yield* cache.cacheStats
        yield* TestClock.adjust(1)
        const swept = yield* cache.cacheStats

        expect(early.size).toBe(60)
        expect(early.reconciliations).toBe(0)
        expect(swept.size).toBe(kept.length)
        expect(swept.collected).toBe(40)
        expect(swept.evictions.collected).toBe(40)
        expect(swept.reconciliations).toBe(1)
        expect(swept.cleanupOverflows).toBe(0)
        for (const value of kept) expect(yield* holds(cache, value.id, value)).toBe(true)
      }))
  })

  describe("weakValues - the cleanup consumer", () => {
    it.effect("weakValues - the consumer removes dead entries without any read", () =>
      Effect.gen(function*() {
        const cache = yield* weakCache(1_000)
        const evens = range(0, 300).filter((id) => id % 2 === 0)
        const kept = yield* setAll(cache, evens, (id) => id % 6 === 0)
        yield* Effect.forEach(range(0, 300), (id) => id % 2 === 1 ? cache.get(id) : Effect.void, { discard: true })
        const before = yield* cache.cacheStats

        const drained = yield* collectUntil(
          Effect.map(cache.cacheStats, (s) => s.size === kept.length && s.cleanupQueueDepth === 0)
        )
        const after = yield* cache.cacheStats

        expect(before.size).toBe(300)
        expect(drained).toBe(true)
        expect(after.collected).toBe(300 - kept.length)
        expect(after.evictions.collected).toBe(300 - kept.length)
        expect(after.cleanupQueueDepth).toBe(0)
        expect(after.cleanupOverflows).toBe(0)
        expect(after.reconciliations).toBe(0)
        expect(after.hits + after.misses).toBe(150)
        for (const value of kept) expect(yield* holds(cache, value.id, value)).toBe(true)
      }).pipe(Effect.scoped))

    it.scoped("weakValues - queued notices are taken in batches and the queue depth returns to zero", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(100, 16)
        for (let id = 0; id < 12; id++) yield* cache.set(id, { id })
        expect(yield* collectUntil(allDead(manual.cells))).toBe(true)

        for (const cell of manual.cells) manual.notify(cell)
        const queued = yield* cache.cacheStats
        yield* turn
        const drained = yield* cache.cacheStats

        expect(queued.cleanupQueueDepth).toBeGreaterThan(0)
        expect(queued.cleanupOverflows).toBe(0)
        expect(drained.cleanupQueueDepth).toBe(0)
        expect(drained.size).toBe(0)
        expect(drained.collected).toBe(12)
        expect(drained.reconciliations).toBe(0)
      }))
  })

  describe("weakValues - an overflow is reconciled before the next operation", () => {
    // Every operation reconciles after an overflow, not only reads: `size`, `contains`,
    // `set` and `cacheStats` included.
    it.effect("weakValues - after an overflow, size reports no dead entries", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(100, 4)
        for (let id = 0; id < 10; id++) yield* cache.set(id, { id })
        expect(yield* collectUntil(allDead(manual.cells))).toBe(true)
        for (const cell of manual.cells) manual.notify(cell)

        const size = yield* cache.size
        const stats = yield* cache.cacheStats

        expect(stats.cleanupOverflows).toBeGreaterThan(0)
        expect(size).toBe(0)
      }).pipe(Effect.scoped))

    // `contains` checks that the weak value is still there, not only that it is fresh by
    // time.
    it.effect("weakValues - contains is false for a key whose value was collected", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(10)
        yield* cache.set(1, { id: 1 })
        expect(yield* collectUntil(allDead(manual.cells))).toBe(true)

        const contains = yield* cache.contains(1)

        expect(contains).toBe(false)
      }).pipe(Effect.scoped))
  })

  describe("weakValues - stats", () => {
    it.effect("weakValues - a cache without weak values reports zero weak counters", () =>
      Effect.gen(function*() {
        const cache = yield* ChronoCache.make({ lookup: (id: number) => Effect.succeed(id), capacity: 2 })
        for (let id = 0; id < 5; id++) yield* cache.get(id)

        const stats = yield* cache.cacheStats

        expect(stats.collected).toBe(0)
        expect(stats.cleanupQueueDepth).toBe(0)
        expect(stats.cleanupOverflows).toBe(0)
        expect(stats.reconciliations).toBe(0)
        expect(stats.evictions.size).toBe(3)
      }).pipe(Effect.scoped))
  })

  describe("weakValues - reused slots and reads of collected entries", () => {
    it.scoped("weak - a stale notice for a slot now held by another key removes nothing", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const cache = yield* weakCache(10)
        yield* setAll(cache, [1])
        const oldCell = cellAt(manual, 0)
        expect(yield* collectUntil(allDead([oldCell]))).toBe(true)
        yield* cache.invalidate(1)
        const fresh = { id: 2 }
        yield* cache.set(2, fresh)
        expect(cellAt(manual, 1).slot).toBe(oldCell.slot) // the slot was reused
        manual.notify(oldCell)
        yield* turn
        yield* settle()
        expect(yield* holds(cache, 2, fresh)).toBe(true)
        expect((yield* cache.cacheStats).collected).toBe(0)
      }))

    it.scoped("weak - collected entry: getOptionSync None; getSync, get and getPromise load again", () =>
      Effect.gen(function*() {
        yield* manualRegistry
        let loads = 0
        const cache = yield* ChronoCache.make({
          lookup: (id: number) => Effect.sync((): Value => ({ id: id * 1000 + ++loads })),
          capacity: 10,
          weakValues: true
        })
        const check = (read: Effect.Effect<Value, unknown>, want: number) =>
          Effect.gen(function*() {
            yield* setAll(cache, [1])
            expect(yield* collectUntil(Effect.sync(() => true), 1)).toBe(true)
            expect(Option.isNone(cache.getOptionSync(1))).toBe(true)
            yield* setAll(cache, [1])
            yield* collectUntil(Effect.sync(() => true), 1)
            const v = yield* read
            expect(v.id).toBe(want)
          })
        yield* check(Effect.sync(() => cache.getSync(1)), 1001)
        yield* check(cache.get(1), 1002)
        yield* check(Effect.promise(() => cache.getPromise(1)), 1003)
        const stats = yield* cache.cacheStats
        expect(stats.evictions.collected).toBe(6)
      }))

    it.scoped("weak - a collected entry with a refresh in flight is joined, then holds the refreshed value", () =>
      Effect.gen(function*() {
        const manual = yield* manualRegistry
        const gate = Deferred.unsafeMake<void>(FiberId.none)
        let loads = 0
        let held: Value | undefined
        const cache = yield* ChronoCache.make({
          lookup: (id: number) =>
            Effect.suspend(() => {
              loads++
              return Effect.as(Deferred.await(gate), undefined).pipe(
                Effect.map(() => (held = { id: id * 1000 + loads }))
              )
            }),
          capacity: 10,
          weakValues: true
        })
        yield* setAll(cache, [1])
        const oldCell = cellAt(manual, 0)
        const refresh = yield* Effect.fork(cache.refresh(1))
        yield* settle()
        expect(yield* collectUntil(allDead([oldCell]))).toBe(true)
        manual.notify(oldCell)
        yield* turn
        yield* settle()
        expect(yield* cache.contains(1)).toBe(true) // the refresh is still running
        expect(Option.isNone(cache.getOptionSync(1))).toBe(true)
        const reader = yield* Effect.fork(cache.get(1))
        yield* settle()
        yield* Deferred.succeed(gate, undefined)
        yield* settle()
        expect(Exit.isSuccess(yield* Fiber.await(refresh))).toBe(true)
        expect((yield* Fiber.join(reader)).id).toBe(1001)
        expect(loads).toBe(1)
        expect(yield* holds(cache, 1, held!)).toBe(true)
        manual.notify(oldCell) // again: a no-op
        yield* turn
        expect(yield* holds(cache, 1, held!)).toBe(true)
      }))

    it.scoped("weak - capacity 0 keeps nothing and still shares a load", () =>
      Effect.gen(function*() {
        yield* manualRegistry
        let loads = 0
        const cache = yield* ChronoCache.make({
          lookup: (id: number) =>
            Effect.zipRight(Effect.yieldNow(), Effect.sync((): Value => ({ id: id + 0 * ++loads }))),
          capacity: 0,
          weakValues: true
        })
        yield* setAll(cache, [1, 2, 3])
        expect(yield* cache.size).toBe(0)
        const [a, b] = yield* Effect.all([cache.get(5), cache.get(5)], { concurrency: "unbounded" })
        expect(a).toBe(b)
        expect(loads).toBe(1)
        expect(yield* cache.size).toBe(0)
      }))
  })

  it.scoped("a store that throws (here, the registry) still answers every waiter and leaves no slot behind", () =>
    Effect.gen(function*() {
      const original = registryFactory.make
      yield* Effect.addFinalizer(() => Effect.sync(() => (registryFactory.make = original)))
      registryFactory.make = (): Registry => ({
        register: () => {
          throw new Error("registry down")
        },
        unregister: () => true
      })
      const gate = yield* Deferred.make<void>()
      const cache = yield* ChronoCache.make({
        lookup: (_: string) => Effect.as(Deferred.await(gate), { id: 1 }),
        capacity: 2,
        weakValues: true
      })
      const waiters = yield* Effect.forEach([1, 2, 3], () => Effect.fork(cache.get("k")))
      const promised = cache.getPromise("k")
      yield* settle()
      yield* Deferred.succeed(gate, undefined)
      for (const waiter of waiters) expect((yield* Fiber.join(waiter)).id).toBe(1)
      expect((yield* Effect.promise(() => promised)).id).toBe(1)
      for (let i = 0; i < 200; i++) yield* cache.get("k") // each loads, fails to store, answers
      const slots = (cache as unknown as { entries: { slots: { state: Uint8Array } } }).entries.slots
      expect(slots.state.filter((state) => state !== 0).length).toBe(0) // nothing left in use
      expect(slots.state.length).toBeLessThanOrEqual(16)
      const stats = yield* cache.cacheStats
      expect(stats.size).toBe(0)
      expect(stats.pendingLoads).toBe(0)
    }))
})
