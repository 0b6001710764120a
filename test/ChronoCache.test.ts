import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Data, Effect, Equal, Exit, Fiber, Hash, Layer, Option, TestClock } from "effect"
import { ChronoCache, InvalidOptionsError } from "../src/index.js"
import * as Lookups from "./utils/lookups.js"
import { allDone, noneDone, settle, waitUntil } from "./utils/scheduling.js"

class LoadFailed extends Data.TaggedError("LoadFailed")<{ readonly key: string }> {}

/** What the helpers below read of a cache, whatever its key, value and error types. */
type Observed = Pick<ChronoCache.ChronoCache<unknown, unknown, unknown>, "cacheStats">

/** Waits until the cache has counted `count` gets (hits and misses). */
const awaitGets = (cache: Observed, count: number) =>
  waitUntil(Effect.map(cache.cacheStats, (s) => s.hits + s.misses === count), `${count} gets counted`)

/** Waits until `count` gets joined a load in flight. */
const awaitJoins = (cache: Observed, count: number) =>
  waitUntil(Effect.map(cache.cacheStats, (s) => s.joins === count), `${count} joins counted`)

const forkN = <A, E>(n: number, effect: Effect.Effect<A, E>) =>
  Effect.forEach(Array.from({ length: n }), () => Effect.fork(effect))

const valueOf = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

const defectOf = <A, E>(exit: Exit.Exit<A, E>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.dieOption(exit.cause)) : undefined

describe("ChronoCache", () => {
  // ---------------------------------------------------------------------------------------
  // Single flight

  it.scoped("get - loads a missing key once and serves it from the cache afterwards", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) => Effect.succeed(key.toUpperCase()))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })

      const first = yield* cache.get("a")
      const second = yield* cache.get("a")

      expect(first).toBe("A")
      expect(second).toBe("A")
      expect(lookup.calls("a")).toBe(1)
      expect(yield* cache.size).toBe(1)
    }))

  it.scoped("get - undefined and null are values like any other, and keys too", () =>
    Effect.gen(function*() {
      type Key = string | null | undefined
      const lookup = yield* Lookups.counting((key: Key) =>
        Effect.succeed(key === "undefined" ? undefined : key === "null" ? null : `key ${String(key)}`)
      )
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })

      const values = yield* Effect.forEach(
        ["undefined", "null", undefined, null] as Array<Key>,
        (key) => cache.get(key)
      )
      const again = yield* Effect.forEach(["undefined", "null", undefined, null] as Array<Key>, (key) => cache.get(key))
      const present = yield* cache.getOption("undefined")

      expect(values).toEqual([undefined, null, "key undefined", "key null"])
      expect(again).toEqual(values)
      expect(lookup.totalCalls()).toBe(4)
      expect(Option.isSome(present)).toBe(true)
      expect(yield* cache.contains("undefined")).toBe(true)
    }))

  it.scoped("get - concurrent callers share one load", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string) => Effect.succeed(`value of ${key}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const fibers = yield* forkN(20, cache.get("k"))
      yield* lookup.started("k")
      yield* awaitGets(cache, 20)
      const whileLoading = yield* cache.getOption("k")

      yield* lookup.open("k")
      const values = yield* Effect.forEach(fibers, Fiber.join)

      expect(Option.isNone(whileLoading)).toBe(true)
      expect(values).toEqual(Array.from({ length: 20 }, () => "value of k"))
      expect(lookup.calls("k")).toBe(1)
      const stats = yield* cache.cacheStats
      expect(stats.misses).toBe(1)
      expect(stats.joins).toBe(19)
    }))

  it.scoped("get - a failure reaches every waiter at once, when the clock passes the end of the load", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) =>
        Effect.zipRight(Effect.sleep("100 millis"), Effect.fail(new LoadFailed({ key })))
      )
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const fibers = yield* forkN(50, cache.get("k"))
      yield* awaitGets(cache, 50)

      yield* TestClock.adjust("99 millis")
      yield* settle()
      const doneBefore100 = !(yield* noneDone(fibers))
      yield* TestClock.adjust("1 millis")
      yield* waitUntil(allDone(fibers), "all 50 waiters answered at 100 ms")
      const exits = yield* Effect.forEach(fibers, Fiber.await)

      expect(doneBefore100).toBe(false)
      expect(lookup.calls("k")).toBe(1)
      const first = failureOf(exits[0]!)
      expect(first).toBeInstanceOf(LoadFailed)
      for (const exit of exits) expect(failureOf(exit)).toBe(first)
    }))

  it.scoped("get - interrupting the first caller does not fail the others", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string) => Effect.succeed(`value of ${key}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const first = yield* Effect.fork(cache.get("k"))
      yield* lookup.started("k")
      const others = yield* forkN(2, cache.get("k"))
      yield* awaitJoins(cache, 2)

      yield* Fiber.interrupt(first)
      yield* lookup.open("k")
      const values = yield* Effect.forEach(others, Fiber.join)

      expect(values).toEqual(["value of k", "value of k"])
      expect(lookup.calls("k")).toBe(1)
      expect(Exit.isInterrupted(yield* Fiber.await(first))).toBe(true)
      expect(valueOf(yield* cache.getOption("k"))).toBe("value of k")
    }))

  it.scoped("get - a failed load is removed before its waiters resume, so a retry starts a fresh load", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string, call) =>
        call === 1 ? Effect.fail(new LoadFailed({ key })) : Effect.succeed(`${key} from load ${call}`)
      )
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const retryOnce = Effect.catchTag(cache.get("k"), "LoadFailed", () => cache.get("k"))
      const fibers = yield* forkN(3, retryOnce)
      yield* lookup.started("k")
      yield* awaitGets(cache, 3)

      yield* lookup.open("k")
      const values = yield* Effect.forEach(fibers, Fiber.join)

      expect(values).toEqual(["k from load 2", "k from load 2", "k from load 2"])
      expect(lookup.calls("k")).toBe(2)
    }))

  it.scoped("get - a defect of the loader reaches every waiter and is not kept", () =>
    Effect.gen(function*() {
      const boom = new Error("boom")
      const lookup = yield* Lookups.gated((_key: string) =>
        Effect.sync((): string => {
          throw boom
        })
      )
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const fibers = yield* forkN(3, cache.get("k"))
      yield* lookup.started("k")
      yield* awaitGets(cache, 3)

      yield* lookup.open("k")
      const exits = yield* Effect.forEach(fibers, Fiber.await)
      const again = yield* Effect.exit(cache.get("k"))

      for (const exit of exits) expect(defectOf(exit)).toBe(boom)
      expect(defectOf(again)).toBe(boom)
      expect(lookup.calls("k")).toBe(2)
      expect(yield* cache.size).toBe(0)
    }))

  it.scoped("get - a lookup that throws before returning an Effect is a defect, and nothing hangs", () =>
    Effect.gen(function*() {
      const boom = new Error("thrown by the lookup function itself")
      let badCalls = 0
      const cache = yield* ChronoCache.make({
        lookup: (key: string): Effect.Effect<string> => {
          if (key !== "bad") return Effect.succeed(key)
          badCalls++
          throw boom
        },
        capacity: 10
      })

      const fibers = yield* forkN(3, cache.get("bad"))
      const exits = yield* Effect.forEach(fibers, Fiber.await)
      const later = yield* Effect.exit(cache.get("bad"))
      const good = yield* cache.get("good")

      for (const exit of exits) expect(defectOf(exit)).toBe(boom)
      expect(defectOf(later)).toBe(boom)
      expect(good).toBe("good")
      const stats = yield* cache.cacheStats
      expect(stats.pendingLoads).toBe(0)
      expect(stats.loadFailures).toBe(badCalls)
      expect(badCalls).toBeGreaterThanOrEqual(2)
      expect(yield* cache.size).toBe(1)
    }))

  // ---------------------------------------------------------------------------------------
  // Ownership of entries

  it.scoped("set - over a load in flight, the set value is stored and the waiters get the loaded value", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((_key: string) => Effect.succeed("loaded"))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const waiter = yield* Effect.fork(cache.get("k"))
      yield* lookup.started("k")

      yield* cache.set("k", "set")
      const whileLoading = yield* cache.get("k")
      yield* lookup.open("k")
      const loaded = yield* Fiber.join(waiter)
      const afterLoad = yield* cache.getOption("k")
      const again = yield* cache.get("k")

      expect(whileLoading).toBe("set")
      expect(loaded).toBe("loaded")
      expect(valueOf(afterLoad)).toBe("set")
      expect(again).toBe("set")
      expect(lookup.calls("k")).toBe(1)
      expect(yield* cache.size).toBe(1)
    }))

  it.scoped("invalidate - wins over a load in flight: the stale result is not written back", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string) => Effect.succeed(`value of ${key}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const waiter = yield* Effect.fork(cache.get("k"))
      yield* lookup.started("k")

      yield* cache.invalidate("k")
      yield* lookup.open("k")
      const value = yield* Fiber.join(waiter)
      const after = yield* cache.getOption("k")

      expect(value).toBe("value of k")
      expect(Option.isNone(after)).toBe(true)
      expect(yield* cache.contains("k")).toBe(false)
      expect(yield* cache.size).toBe(0)
      expect(lookup.calls("k")).toBe(1)
    }))

  it.scoped("invalidate - a get after invalidating a load in flight starts a fresh load, which the old one cannot overwrite", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string, call) => Effect.succeed(`${key} from load ${call}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const before = yield* Effect.fork(cache.get("k"))
      yield* lookup.started("k")

      yield* cache.invalidate("k")
      const after = yield* Effect.fork(cache.get("k"))
      yield* lookup.started("k", 2)
      yield* lookup.open("k")
      const oldValue = yield* Fiber.join(before)
      const newValue = yield* Fiber.join(after)

      expect(oldValue).toBe("k from load 1")
      expect(newValue).toBe("k from load 2")
      expect(valueOf(yield* cache.getOption("k"))).toBe("k from load 2")
    }))

  it.scoped("invalidateAll - removes every entry, and a load in flight is not stored", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string) => Effect.succeed(`value of ${key}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      yield* Effect.forEach(["a", "b", "c"], (key) => cache.set(key, key))
      const waiter = yield* Effect.fork(cache.get("d"))
      yield* lookup.started("d")

      yield* cache.invalidateAll
      const sizeAfterClear = yield* cache.size
      yield* lookup.open("d")
      const value = yield* Fiber.join(waiter)

      expect(sizeAfterClear).toBe(0)
      expect(value).toBe("value of d")
      for (const key of ["a", "b", "c", "d"]) expect(yield* cache.contains(key)).toBe(false)
      expect(yield* cache.size).toBe(0)
      expect(lookup.totalCalls()).toBe(1)
    }))

  // ---------------------------------------------------------------------------------------
  // Bounds and recency order

  it.scoped("eviction - least-recently-used, exactly: get a, b, a, c at capacity 2 evicts b", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) => Effect.succeed(key.toUpperCase()))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 2 })

      yield* Effect.forEach(["a", "b", "a", "c"], (key) => cache.get(key))

      expect(yield* cache.contains("a")).toBe(true)
      expect(yield* cache.contains("b")).toBe(false)
      expect(yield* cache.contains("c")).toBe(true)
      expect(lookup.calls("a")).toBe(1)
      expect(yield* cache.size).toBe(2)
      expect((yield* cache.cacheStats).evictions.size).toBe(1)
    }))

  it.scoped("set - respects capacity: five sets at capacity 2 keep the two most recent", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) => Effect.succeed(key))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 2 })

      yield* Effect.forEach(["k1", "k2", "k3", "k4", "k5"], (key) => cache.set(key, `set ${key}`))

      expect(yield* cache.size).toBe(2)
      expect(valueOf(yield* cache.getOption("k4"))).toBe("set k4")
      expect(valueOf(yield* cache.getOption("k5"))).toBe("set k5")
      for (const key of ["k1", "k2", "k3"]) expect(yield* cache.contains(key)).toBe(false)
      expect(lookup.totalCalls()).toBe(0)
    }))

  it.scoped("getOption - a hit counts as a read for recency", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) => Effect.succeed(key))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 2 })
      yield* cache.set("a", "a")
      yield* cache.set("b", "b")

      const read = yield* cache.getOption("a")
      yield* cache.set("c", "c")

      expect(valueOf(read)).toBe("a")
      expect(yield* cache.contains("a")).toBe(true)
      expect(yield* cache.contains("b")).toBe(false)
      expect(yield* cache.contains("c")).toBe(true)
    }))

  it.scoped("contains - is not a read and leaves recency alone", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) => Effect.succeed(key))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 2 })
      yield* cache.set("a", "a")
      yield* cache.set("b", "b")

      const present = yield* cache.contains("a")
      yield* cache.set("c", "c")

      expect(present).toBe(true)
      expect(yield* cache.contains("a")).toBe(false)
      expect(yield* cache.contains("b")).toBe(true)
      expect(yield* cache.contains("c")).toBe(true)
      const stats = yield* cache.cacheStats
      expect(stats.hits + stats.misses).toBe(0)
    }))

  it.scoped("set - over a present value replaces it, counts as a use and is not an eviction", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) => Effect.succeed(key))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 2 })
      yield* cache.set("a", "a1")
      yield* cache.set("b", "b1")

      yield* cache.set("a", "a2")
      yield* cache.set("c", "c1")

      expect(valueOf(yield* cache.getOption("a"))).toBe("a2")
      expect(yield* cache.contains("b")).toBe(false)
      expect(yield* cache.size).toBe(2)
      expect((yield* cache.cacheStats).evictions.size).toBe(1)
    }))

  it.scoped("eviction - a pending load is never evicted: two slow misses at capacity 1 both get their values", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string) => Effect.succeed(`value of ${key}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 1 })
      const first = yield* Effect.fork(cache.get("k1"))
      const second = yield* Effect.fork(cache.get("k2"))
      yield* lookup.started("k1")
      yield* lookup.started("k2")

      yield* lookup.open("k1")
      const value1 = yield* Fiber.join(first)
      const k2PendingAfterK1 = yield* cache.contains("k2")
      yield* lookup.open("k2")
      const value2 = yield* Fiber.join(second)

      expect(value1).toBe("value of k1")
      expect(value2).toBe("value of k2")
      expect(k2PendingAfterK1).toBe(true)
      expect(yield* cache.size).toBe(1)
      expect(yield* cache.contains("k2")).toBe(true)
      expect(lookup.calls("k1")).toBe(1)
      expect(lookup.calls("k2")).toBe(1)
    }))

  it.scoped("eviction - pending loads are pinned and not counted in size", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string) => Effect.succeed(`loaded ${key}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 1 })
      yield* cache.set("a", "set a")
      const waiter = yield* Effect.fork(cache.get("b"))
      yield* lookup.started("b")

      const sizeWithPending = yield* cache.size
      const aKept = yield* cache.contains("a")
      yield* cache.set("c", "set c")
      const aAfterC = yield* cache.contains("a")
      const bPinned = yield* cache.contains("b")
      yield* lookup.open("b")
      const value = yield* Fiber.join(waiter)

      expect(sizeWithPending).toBe(1)
      expect(aKept).toBe(true)
      expect(aAfterC).toBe(false)
      expect(bPinned).toBe(true)
      expect(value).toBe("loaded b")
      expect(yield* cache.size).toBe(1)
      expect(valueOf(yield* cache.getOption("b"))).toBe("loaded b")
      expect(yield* cache.contains("c")).toBe(false)
    }))

  it.scoped("capacity 0 - keeps nothing but shares a load in flight", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string, call) => Effect.succeed(`${key} from load ${call}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 0 })
      const fibers = yield* forkN(3, cache.get("k"))
      yield* lookup.started("k")
      yield* awaitJoins(cache, 2)

      yield* lookup.open("k")
      const values = yield* Effect.forEach(fibers, Fiber.join)
      const callsAfterShared = lookup.calls("k")
      const kept = yield* cache.getOption("k")
      const again = yield* cache.get("k")
      yield* cache.set("s", "set")

      expect(values).toEqual(["k from load 1", "k from load 1", "k from load 1"])
      expect(callsAfterShared).toBe(1)
      expect(Option.isNone(kept)).toBe(true)
      expect(again).toBe("k from load 2")
      expect(Option.isNone(yield* cache.getOption("s"))).toBe(true)
      expect(yield* cache.size).toBe(0)
    }))

  it.scoped("eviction - matches a reference LRU over a long mixed sequence of operations", () =>
    Effect.gen(function*() {
      const capacity = 8
      const lookup = yield* Lookups.counting((key: number) => Effect.succeed(key * 10))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity })
      // The reference: most recent first.
      const model: Array<number> = []
      const use = (key: number) => {
        const at = model.indexOf(key)
        if (at >= 0) model.splice(at, 1)
        model.unshift(key)
        if (model.length > capacity) model.pop()
      }
      let seed = 12345
      const next = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648
        return seed % n
      }
      let loads = 0
      const mismatches: Array<string> = []

      for (let step = 0; step < 600; step++) {
        const key = next(20)
        const op = next(10)
        if (op < 5) {
          if (!model.includes(key)) loads++
          use(key)
          yield* cache.get(key)
        } else if (op < 7) {
          use(key)
          yield* cache.set(key, key * 10)
        } else if (op < 8) {
          if (model.includes(key)) use(key)
          yield* cache.getOption(key)
        } else if (op < 9) {
          yield* cache.contains(key)
        } else {
          const at = model.indexOf(key)
          if (at >= 0) model.splice(at, 1)
          yield* cache.invalidate(key)
        }
        const size = yield* cache.size
        if (size !== model.length) mismatches.push(`step ${step}: size ${size}, expected ${model.length}`)
      }
      for (let key = 0; key < 20; key++) {
        if ((yield* cache.contains(key)) !== model.includes(key)) mismatches.push(`key ${key} presence`)
      }

      expect(mismatches).toEqual([])
      expect(lookup.totalCalls()).toBe(loads)
    }))

  // ---------------------------------------------------------------------------------------
  // Stats

  it.scoped("cacheStats - hits plus misses equals the number of gets, joins included in hits", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) =>
        key === "slow"
          ? Effect.as(Effect.sleep("100 millis"), key)
          : key === "bad"
          ? Effect.fail(new LoadFailed({ key }))
          : Effect.succeed(key)
      )
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })

      // Gets run by the runtime and gets taken by `yield*` inside a generator both count.
      yield* cache.get("a")
      yield* cache.get("a")
      yield* Effect.forEach(["a"], (key) => cache.get(key))
      const slow = yield* forkN(3, cache.get("slow"))
      yield* awaitGets(cache, 6)
      yield* TestClock.adjust("100 millis")
      yield* Effect.forEach(slow, Fiber.join)
      yield* Effect.exit(cache.get("bad"))
      yield* Effect.exit(Effect.gen(function*() {
        return yield* cache.get("bad")
      }))

      const stats = yield* cache.cacheStats
      expect(stats.hits + stats.misses).toBe(8)
      expect(stats.misses).toBe(4)
      expect(stats.hits).toBe(4)
      expect(stats.joins).toBe(2)
    }))

  it.scoped("cacheStats - counts load successes and load failures", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) =>
        key.startsWith("bad") ? Effect.fail(new LoadFailed({ key })) : Effect.succeed(key)
      )
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })

      yield* Effect.forEach(["a", "b", "a", "c"], (key) => cache.get(key))
      yield* Effect.forEach(["bad1", "bad2", "bad1"], (key) => Effect.exit(cache.get(key)))
      yield* cache.set("d", "d")

      const stats = yield* cache.cacheStats
      expect(stats.loadSuccesses).toBe(3)
      expect(stats.loadFailures).toBe(3)
      expect(stats.size).toBe(4)
    }))

  it.scoped("cacheStats - pendingLoads counts loads in flight, which size does not", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string) => Effect.succeed(key))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const fibers = yield* Effect.forEach(["a", "b", "a"], (key) => Effect.fork(cache.get(key)))
      yield* lookup.started("a")
      yield* lookup.started("b")

      const bothRunning = yield* cache.cacheStats
      yield* lookup.open("a")
      yield* Fiber.join(fibers[0]!)
      const oneRunning = yield* cache.cacheStats
      yield* lookup.open("b")
      yield* Fiber.join(fibers[1]!)
      const noneRunning = yield* cache.cacheStats

      expect([bothRunning.pendingLoads, bothRunning.size]).toEqual([2, 0])
      expect([oneRunning.pendingLoads, oneRunning.size]).toEqual([1, 1])
      expect([noneRunning.pendingLoads, noneRunning.size]).toEqual([0, 2])
    }))

  it.scoped("cacheStats - totalLoadTimeMillis sums the Clock time of each load once", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) =>
        Effect.as(Effect.sleep(key === "a" ? "250 millis" : "100 millis"), key)
      )
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const fibers = yield* Effect.forEach(["a", "a", "a", "b"], (key) => Effect.fork(cache.get(key)))
      yield* awaitGets(cache, 4)

      yield* TestClock.adjust("250 millis")
      yield* Effect.forEach(fibers, Fiber.join)
      yield* cache.set("c", "c")

      expect((yield* cache.cacheStats).totalLoadTimeMillis).toBe(350)
    }))

  it.scoped("cacheStats - evictions are counted by cause; invalidation and replacement are not evictions", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string) => Effect.succeed(key))
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 2,
        timeToLive: "1 second",
        sweepInterval: "1 hour"
      })

      yield* Effect.forEach(["a", "b", "c"], (key) => cache.set(key, key))
      yield* cache.set("c", "c again")
      yield* cache.invalidate("c")
      yield* TestClock.adjust("1 second")
      yield* cache.getOption("b")

      const stats = yield* cache.cacheStats
      expect(stats.evictions).toEqual({ size: 1, expired: 1, collected: 0 })
      expect(stats.size).toBe(0)
    }))

  // ---------------------------------------------------------------------------------------
  // Options

  const lookupOk = (key: string) => Effect.succeed(key)
  const invalid: ReadonlyArray<readonly [string, string, Record<string, unknown>]> = [
    ["capacity negative", "capacity", { lookup: lookupOk, capacity: -1 }],
    ["capacity fractional", "capacity", { lookup: lookupOk, capacity: 1.5 }],
    ["capacity NaN", "capacity", { lookup: lookupOk, capacity: NaN }],
    ["capacity Infinity", "capacity", { lookup: lookupOk, capacity: Infinity }],
    ["capacity missing", "capacity", { lookup: lookupOk }],
    ["timeToLive a negative number", "timeToLive", { lookup: lookupOk, capacity: 1, timeToLive: -1000 }],
    ["timeToLive a negative string", "timeToLive", { lookup: lookupOk, capacity: 1, timeToLive: "-1 seconds" }],
    ["timeToLive NaN", "timeToLive", { lookup: lookupOk, capacity: 1, timeToLive: NaN }],
    ["timeToLive malformed", "timeToLive", { lookup: lookupOk, capacity: 1, timeToLive: "1 fortnight" }],
    ["timeToIdle a negative number", "timeToIdle", { lookup: lookupOk, capacity: 1, timeToIdle: -1 }],
    ["timeToIdle a negative string", "timeToIdle", { lookup: lookupOk, capacity: 1, timeToIdle: "-5 minutes" }],
    ["loadTimeout a negative string", "loadTimeout", { lookup: lookupOk, capacity: 1, loadTimeout: "-1 seconds" }],
    ["sweepInterval a negative number", "sweepInterval", { lookup: lookupOk, capacity: 1, sweepInterval: -10 }],
    ["sweepInterval zero", "sweepInterval", { lookup: lookupOk, capacity: 1, sweepInterval: 0 }],
    ["lookup missing", "lookup", { capacity: 10 }]
  ]

  for (const [what, option, options] of invalid) {
    it.scoped(`make - ${what} fails with InvalidOptionsError`, () =>
      Effect.gen(function*() {
        // A cache built by mistake is reported by name, not printed.
        const error = yield* ChronoCache.make(options as any).pipe(Effect.as("built"), Effect.flip)

        expect(error).toBeInstanceOf(InvalidOptionsError)
        expect(error._tag).toBe("InvalidOptionsError")
        expect(error.option).toBe(option)
        expect(error.message).toContain(option)
      }))
  }

  class Strings extends Context.Tag("test/Strings")<Strings, ChronoCache.ChronoCache<string, string>>() {}

  for (const [what, option, options] of invalid) {
    it.scoped(`layer - ${what} fails the layer with InvalidOptionsError`, () =>
      Effect.gen(function*() {
        const error = yield* Layer.build(ChronoCache.layer(Strings, options as any)).pipe(
          Effect.as("built"),
          Effect.flip
        )

        expect(error).toBeInstanceOf(InvalidOptionsError)
        expect(error.option).toBe(option)
      }))
  }

  it.scoped("make - accepts the edges of valid options", () =>
    Effect.gen(function*() {
      const options: ReadonlyArray<ChronoCache.Options<string, string>> = [
        { lookup: lookupOk, capacity: 0 },
        { lookup: lookupOk, capacity: 1, timeToLive: 0 },
        { lookup: lookupOk, capacity: 1, timeToLive: "0 seconds", timeToIdle: Infinity },
        { lookup: lookupOk, capacity: 1, timeToLive: (exit: Exit.Exit<string>) => Exit.isSuccess(exit) ? 10 : 0 },
        { lookup: lookupOk, capacity: Number.MAX_SAFE_INTEGER, sweepInterval: "1 millis", loadTimeout: 1 }
      ]

      const exits = yield* Effect.forEach(options, (o) => Effect.exit(ChronoCache.make(o)))

      for (const exit of exits) expect(Exit.isSuccess(exit)).toBe(true)
    }))

  // ---------------------------------------------------------------------------------------
  // Keys

  it.scoped("keys - two distinct but equal Data.struct keys share one entry and one load", () =>
    Effect.gen(function*() {
      type Key = { readonly id: number; readonly kind: string }
      const lookup = yield* Lookups.gated((key: Key) => Effect.succeed(`${key.kind} ${key.id}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const k1 = Data.struct({ id: 1, kind: "user" })
      const k2 = Data.struct({ id: 1, kind: "user" })
      const first = yield* Effect.fork(cache.get(k1))
      const second = yield* Effect.fork(cache.get(k2))
      yield* lookup.started(k1)
      yield* awaitJoins(cache, 1)

      yield* lookup.open(k1)
      const values = [yield* Fiber.join(first), yield* Fiber.join(second)]
      yield* lookup.open(Data.struct({ id: 2, kind: "user" }))
      const other = yield* cache.get(Data.struct({ id: 2, kind: "user" }))

      expect(k1 === k2).toBe(false)
      expect(values).toEqual(["user 1", "user 1"])
      expect(other).toBe("user 2")
      expect(lookup.totalCalls()).toBe(2)
      expect(valueOf(yield* cache.getOption(Data.struct({ id: 1, kind: "user" })))).toBe("user 1")
      expect(yield* cache.size).toBe(2)
    }))

  class UserId extends Data.Class<{ readonly id: number }> {}

  it.scoped("keys - two distinct but equal Data.Class keys share one entry and one load", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: UserId) => Effect.succeed(`user ${key.id}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const first = yield* Effect.fork(cache.get(new UserId({ id: 7 })))
      const second = yield* Effect.fork(cache.get(new UserId({ id: 7 })))
      yield* lookup.started(new UserId({ id: 7 }))
      yield* awaitJoins(cache, 1)

      yield* lookup.open(new UserId({ id: 7 }))
      const values = [yield* Fiber.join(first), yield* Fiber.join(second)]
      yield* cache.set(new UserId({ id: 8 }), "set 8")
      yield* cache.invalidate(new UserId({ id: 7 }))

      expect(values).toEqual(["user 7", "user 7"])
      expect(lookup.totalCalls()).toBe(1)
      expect(yield* cache.contains(new UserId({ id: 7 }))).toBe(false)
      expect(valueOf(yield* cache.getOption(new UserId({ id: 8 })))).toBe("set 8")
      expect(yield* cache.size).toBe(1)
    }))

  it.scoped("keys - primitive keys of each kind are compared by value and kept apart by kind", () =>
    Effect.gen(function*() {
      type Key = string | number | bigint
      const lookup = yield* Lookups.counting((key: Key) => Effect.succeed(`${typeof key} ${String(key)}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })

      const first = yield* Effect.forEach(["1", 1, 1n, 2n ** 64n] as Array<Key>, (key) => cache.get(key))
      const again = yield* Effect.forEach(
        [String(1), 0.5 + 0.5, BigInt("1"), BigInt("18446744073709551616")] as Array<Key>,
        (key) => cache.get(key)
      )

      expect(first).toEqual(["string 1", "number 1", "bigint 1", "bigint 18446744073709551616"])
      expect(again).toEqual(first)
      expect(lookup.totalCalls()).toBe(4)
      expect(yield* cache.size).toBe(4)
    }))

  it.scoped("keys - Date keys are compared by the time they hold, as Equal does", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: Date) => Effect.succeed(key.toISOString()))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })

      const first = yield* cache.get(new Date(0))
      const again = yield* cache.get(new Date(0))
      const other = yield* cache.get(new Date(1000))

      expect(first).toBe("1970-01-01T00:00:00.000Z")
      expect(again).toBe(first)
      expect(other).toBe("1970-01-01T00:00:01.000Z")
      expect(lookup.totalCalls()).toBe(2)
      expect(yield* cache.size).toBe(2)
    }))

  it.scoped("keys - plain objects are compared by reference", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: { readonly id: number }) => Effect.succeed(`object ${key.id}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const key = { id: 1 }

      yield* cache.get(key)
      yield* cache.get(key)
      yield* cache.get({ id: 1 })

      expect(lookup.totalCalls()).toBe(2)
      expect(yield* cache.size).toBe(2)
    }))

  class Colliding extends Data.Class<{ readonly id: number }> {
    [Hash.symbol](): number {
      return 42
    }
  }

  it.scoped("keys - keys whose hashes collide stay separate", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: Colliding, call) => Effect.succeed(`${key.id} from load ${call}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10 })
      const key = (id: number) => new Colliding({ id })

      const loaded = yield* Effect.forEach([1, 2, 3], (id) => cache.get(key(id)))
      yield* cache.invalidate(key(2))
      const afterMiddle = yield* Effect.forEach([1, 3], (id) => cache.getOption(key(id)))
      yield* cache.invalidate(key(1))
      const afterFirst = yield* cache.getOption(key(3))
      const reloaded = yield* cache.get(key(2))

      expect(Hash.hash(key(1))).toBe(Hash.hash(key(2)))
      expect(Equal.equals(key(1), key(2))).toBe(false)
      expect(loaded).toEqual(["1 from load 1", "2 from load 1", "3 from load 1"])
      expect(afterMiddle.map(valueOf)).toEqual(["1 from load 1", "3 from load 1"])
      expect(valueOf(afterFirst)).toBe("3 from load 1")
      expect(reloaded).toBe("2 from load 2")
      expect(yield* cache.contains(key(1))).toBe(false)
      expect(yield* cache.size).toBe(2)
    }))

  // ---------------------------------------------------------------------------------------
  // The Layer

  class Prefix extends Context.Tag("test/Prefix")<Prefix, string>() {}

  const GreetingsLive = ChronoCache.layer(Strings, {
    lookup: (name: string) => Effect.map(Prefix, (prefix) => `${prefix}, ${name}`),
    capacity: 10
  }).pipe(Layer.provide(Layer.succeed(Prefix, "Hello")))

  it.effect("layer - provides a cache whose loader gets its services from the layer", () =>
    Effect.gen(function*() {
      const cache = yield* Strings

      const greeting = yield* cache.get("Ada")
      const cached = yield* cache.getOption("Ada")

      expect(greeting).toBe("Hello, Ada")
      expect(valueOf(cached)).toBe("Hello, Ada")
    }).pipe(Effect.provide(GreetingsLive)))

  it.effect("layer - the loader sees the layer's services, never the caller's", () =>
    Effect.gen(function*() {
      const cache = yield* Strings

      const greeting = yield* cache.get("Grace").pipe(Effect.provideService(Prefix, "Goodbye"))

      expect(greeting).toBe("Hello, Grace")
    }).pipe(Effect.provide(GreetingsLive)))
})
