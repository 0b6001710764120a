import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Context, Data, Duration, Effect, Exit, Fiber, Layer, Option, TestClock } from "effect"
import { ChronoCache } from "../src/index.js"
import * as Lookups from "./utils/lookups.js"
import { allDone, waitUntil } from "./utils/scheduling.js"

class LoadFailed extends Data.TaggedError("LoadFailed")<{ readonly key: string }> {}

const valueOf = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)

const defectOf = <A, E>(exit: Exit.Exit<A, E>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.dieOption(exit.cause)) : undefined

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/** A lookup whose values say which load of the key made them: "k@1", "k@2"... */
const numbered = Lookups.counting((key: string, call) => Effect.succeed(`${key}@${call}`))

/** Lets the event loop turn (so that no value is pinned by the current job), then collects. */
const collectGarbage = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve))).pipe(
  Effect.andThen(() => {
    ;(globalThis as { gc?: () => void }).gc?.()
  }),
  Effect.andThen(Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve))))
)

/**
 * Sets a fresh object under each key, held by nothing but the cache, and returns a function
 * that lists the keys whose object is still alive: after `collectGarbage`, the ones the
 * cache still holds.
 */
const setHeldOnlyByCache = (
  cache: ChronoCache.ChronoCache<string, { readonly key: string }>,
  keys: ReadonlyArray<string>
) =>
  Effect.map(
    Effect.forEach(keys, (key) => {
      const value = { key }
      return Effect.as(cache.set(key, value), [key, new WeakRef(value)] as const)
    }),
    (refs) => () => refs.filter(([, ref]) => ref.deref() !== undefined).map(([key]) => key)
  )

describe("ChronoCache", () => {
  // ---------------------------------------------------------------------------------------
  // timeToLive

  it.scoped("timeToLive - a value is served until its time to live passes, then loaded again", () =>
    Effect.gen(function*() {
      const lookup = yield* numbered
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10, timeToLive: "1 second" })
      yield* cache.get("k")

      yield* TestClock.adjust("999 millis")
      const before = yield* cache.get("k")
      yield* TestClock.adjust("1 millis")
      const after = yield* cache.get("k")

      expect(before).toBe("k@1")
      expect(after).toBe("k@2")
      expect(lookup.calls("k")).toBe(2)
    }))

  it.scoped("timeToLive - an entry is fresh strictly before its expiry and gone at exactly that time", () =>
    Effect.gen(function*() {
      const lookup = yield* numbered
      // The sweeper is kept out of the way: this is about what reads return.
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 10,
        timeToLive: 1000,
        sweepInterval: "1 hour"
      })
      yield* Effect.forEach(["a", "b", "c"], (key) => cache.get(key))

      yield* TestClock.adjust("999 millis")
      const justBefore = yield* Effect.all([cache.getOption("a"), cache.contains("b"), cache.get("c")])
      yield* TestClock.adjust("1 millis")
      const atExpiry = yield* Effect.all([cache.getOption("a"), cache.contains("b"), cache.get("c")])

      expect(valueOf(justBefore[0])).toBe("a@1")
      expect(justBefore[1]).toBe(true)
      expect(justBefore[2]).toBe("c@1")
      expect(Option.isNone(atExpiry[0])).toBe(true)
      expect(atExpiry[1]).toBe(false)
      expect(atExpiry[2]).toBe("c@2")
    }))

  it.scoped("timeToLive - a duration applies to successes only: a failure is never kept", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string, call) =>
        call === 1 ? Effect.fail(new LoadFailed({ key })) : Effect.succeed(`${key}@${call}`)
      )
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10, timeToLive: "1 hour" })

      const first = yield* Effect.exit(cache.get("k"))
      const second = yield* cache.get("k")

      expect(failureOf(first)).toBeInstanceOf(LoadFailed)
      expect(second).toBe("k@2")
      expect(lookup.calls("k")).toBe(2)
    }))

  it.scoped("timeToLive - a function of the exit keeps a failure for a while, then loads again", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((key: string, call) =>
        call === 1 ? Effect.fail(new LoadFailed({ key })) : Effect.succeed(`${key}@${call}`)
      )
      const seen: Array<string> = []
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 10,
        timeToLive: (exit, key) => {
          seen.push(`${key} ${exit._tag}`)
          return Exit.isFailure(exit) ? "1 second" : "1 hour"
        }
      })

      const first = yield* Effect.exit(cache.get("k"))
      yield* TestClock.adjust("999 millis")
      const kept = yield* Effect.exit(cache.get("k"))
      const keptInGen = yield* Effect.exit(Effect.gen(function*() {
        return yield* cache.get("k")
      }))
      const optionWhileKept = yield* cache.getOption("k")
      const callsWhileKept = lookup.calls("k")
      yield* TestClock.adjust("1 millis")
      const reloaded = yield* cache.get("k")
      yield* TestClock.adjust("10 seconds")
      const stillThere = yield* cache.get("k")

      expect(failureOf(first)).toBeInstanceOf(LoadFailed)
      expect(failureOf(kept)).toBe(failureOf(first))
      expect(failureOf(keptInGen)).toBe(failureOf(first))
      expect(Option.isNone(optionWhileKept)).toBe(true)
      expect(callsWhileKept).toBe(1)
      expect(reloaded).toBe("k@2")
      expect(stillThere).toBe("k@2")
      expect(lookup.calls("k")).toBe(2)
      expect(seen).toEqual(["k Failure", "k Success"])
    }))

  // The time-to-live function runs in the load's exit observer: one that throws must still
  // let the load finish and answer its waiters.
  it.scoped("timeToLive - a function that throws leaves no load behind: the next get of the key is answered", () =>
    Effect.gen(function*() {
      const boom = new Error("thrown by the time-to-live function")
      const cache = yield* ChronoCache.make({
        lookup: (key: string) => Effect.succeed(key),
        capacity: 10,
        timeToLive: (): Duration.DurationInput => {
          throw boom
        }
      })

      const first = yield* Effect.exit(cache.get("k"))
      const next = yield* Effect.fork(cache.get("k"))
      yield* waitUntil(allDone([next]), "the next get of the key answered")

      expect(Exit.isSuccess(first) || defectOf(first) === boom).toBe(true)
      expect((yield* cache.cacheStats).pendingLoads).toBe(0)
    }))

  it.scoped("timeToLive - zero still shares a load in flight, and keeps nothing after it", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string, call) => Effect.succeed(`${key}@${call}`))
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10, timeToLive: 0 })
      const fibers = yield* Effect.forEach([1, 2], () => Effect.fork(cache.get("k")))
      yield* lookup.started("k")
      yield* waitUntil(Effect.map(cache.cacheStats, (s) => s.joins === 1), "the second get joined")

      yield* lookup.open("k")
      const values = yield* Effect.forEach(fibers, Fiber.join)
      const callsAfterShared = lookup.calls("k")
      const kept = yield* cache.getOption("k")
      const next = yield* cache.get("k")

      expect(values).toEqual(["k@1", "k@1"])
      expect(callsAfterShared).toBe(1)
      expect(Option.isNone(kept)).toBe(true)
      expect(next).toBe("k@2")
      expect(yield* cache.size).toBe(0)
    }))

  it.scoped("timeToLive - a set value expires too", () =>
    Effect.gen(function*() {
      const lookup = yield* numbered
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 10,
        timeToLive: "1 second",
        sweepInterval: "1 hour"
      })
      yield* cache.set("k", "set")

      yield* TestClock.adjust("999 millis")
      const before = yield* cache.getOption("k")
      yield* TestClock.adjust("1 millis")
      const after = yield* cache.getOption("k")

      expect(valueOf(before)).toBe("set")
      expect(Option.isNone(after)).toBe(true)
    }))

  it.scoped("timeToLive - a set over a value restarts its time to live", () =>
    Effect.gen(function*() {
      const lookup = yield* numbered
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 10,
        timeToLive: "1 second",
        sweepInterval: "1 hour"
      })
      yield* cache.get("k")

      yield* TestClock.adjust("600 millis")
      yield* cache.set("k", "set")
      yield* TestClock.adjust("600 millis")
      const afterFirstExpiry = yield* cache.getOption("k")
      yield* TestClock.adjust("400 millis")
      const afterSecondExpiry = yield* cache.getOption("k")

      expect(valueOf(afterFirstExpiry)).toBe("set")
      expect(Option.isNone(afterSecondExpiry)).toBe(true)
    }))

  it.effect("timeToLive - a cache built by its layer expires on the TestClock", () => {
    class Names extends Context.Tag("test/Names")<Names, ChronoCache.ChronoCache<string, string>>() {}
    return Effect.gen(function*() {
      const cache = yield* Names
      yield* cache.get("k")

      yield* TestClock.adjust("5 seconds")
      const expired = yield* cache.getOption("k")

      expect(Option.isNone(expired)).toBe(true)
    }).pipe(
      Effect.provide(
        Layer.unwrapEffect(
          Effect.map(
            numbered,
            (lookup) => ChronoCache.layer(Names, { lookup: lookup.lookup, capacity: 10, timeToLive: "5 seconds" })
          )
        )
      )
    )
  })

  // ---------------------------------------------------------------------------------------
  // timeToIdle

  it.scoped("timeToIdle - reads keep an entry alive past the idle time since its write", () =>
    Effect.gen(function*() {
      const lookup = yield* numbered
      const cache = yield* ChronoCache.make({ lookup: lookup.lookup, capacity: 10, timeToIdle: "1 second" })
      yield* cache.get("k")

      const reads: Array<string | undefined> = []
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust("600 millis")
        reads.push(i % 2 === 0 ? valueOf(yield* cache.getOption("k")) : yield* cache.get("k"))
      }

      expect(reads).toEqual(["k@1", "k@1", "k@1", "k@1", "k@1"])
      expect(lookup.calls("k")).toBe(1)
      expect((yield* cache.cacheStats).evictions.expired).toBe(0)
    }))

  it.scoped("timeToIdle - an entry expires at exactly its idle time after the last read; contains is not a read", () =>
    Effect.gen(function*() {
      const lookup = yield* numbered
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 10,
        timeToIdle: "1 second",
        sweepInterval: "1 hour"
      })
      yield* cache.get("k")
      yield* TestClock.adjust("500 millis")
      yield* cache.getOption("k")

      yield* TestClock.adjust("999 millis")
      const containedJustBefore = yield* cache.contains("k")
      yield* TestClock.adjust("1 millis")
      const atIdleTime = yield* cache.getOption("k")
      const reloaded = yield* cache.get("k")

      expect(containedJustBefore).toBe(true)
      expect(Option.isNone(atIdleTime)).toBe(true)
      expect(reloaded).toBe("k@2")
      expect((yield* cache.cacheStats).evictions.expired).toBe(1)
    }))

  it.scoped("timeToIdle - with timeToLive, whichever comes first expires the entry", () =>
    Effect.gen(function*() {
      const lookup = yield* numbered
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 10,
        timeToLive: "1 second",
        timeToIdle: "400 millis",
        sweepInterval: "1 hour"
      })
      yield* Effect.forEach(["read", "idle"], (key) => cache.get(key))

      const reads: Array<boolean> = []
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("300 millis")
        reads.push(Option.isSome(yield* cache.getOption("read")))
      }
      const idle = yield* cache.getOption("idle")
      yield* TestClock.adjust("100 millis")
      const pastTimeToLive = yield* cache.getOption("read")

      expect(reads).toEqual([true, true, true])
      expect(Option.isNone(idle)).toBe(true)
      expect(Option.isNone(pastTimeToLive)).toBe(true)
    }))

  // ---------------------------------------------------------------------------------------
  // The sweeper

  it.scoped("sweeper - reclaims expired entries without reads", () =>
    Effect.gen(function*() {
      // Values held only by the cache: once an entry is removed its value can be collected,
      // which shows the removal without any call to the cache (size and the stats reclaim
      // expired entries themselves, so they could not tell the sweeper's work apart).
      const cache = yield* ChronoCache.make({
        lookup: (key: string) => Effect.succeed({ key }),
        capacity: 10,
        timeToLive: "500 millis",
        sweepInterval: "1 second"
      })
      const alive = yield* setHeldOnlyByCache(cache, ["a", "b", "c"])

      yield* TestClock.adjust("999 millis")
      yield* collectGarbage
      const aliveBeforeSweep = alive()
      yield* TestClock.adjust("1 millis")
      yield* collectGarbage
      const aliveAfterSweep = alive()
      const stats = yield* cache.cacheStats

      expect(aliveBeforeSweep).toEqual(["a", "b", "c"])
      expect(aliveAfterSweep).toEqual([])
      expect(stats.evictions.expired).toBe(3)
      expect(stats.size).toBe(0)
      expect(stats.hits + stats.misses).toBe(0)
    }))

  it.scoped("sweeper - sleeps until the next entry is due, is woken by a write due sooner, and waits while none is", () =>
    Effect.gen(function*() {
      // The wake-up times pending on the TestClock (a sleep that lost a race stays listed until
      // its time, so the times are listed once each).
      const sleeps = Effect.map(
        TestClock.sleeps(),
        (chunk) => [...new Set(Chunk.toReadonlyArray(chunk))].sort((a, b) => a - b)
      )
      const cache = yield* ChronoCache.make({
        lookup: (key: string) => Effect.succeed({ key }),
        capacity: 10,
        timeToLive: (exit) => Exit.isSuccess(exit) && exit.value.key === "short" ? "10 seconds" : "5 minutes",
        sweepInterval: "1 second"
      })
      yield* Effect.yieldNow()
      expect(yield* sleeps).toEqual([]) // nothing is due: the sweeper waits for a write

      const alive = yield* setHeldOnlyByCache(cache, ["a"])
      yield* Effect.yieldNow()
      expect(yield* sleeps).toEqual([1_000]) // woken by the write; one interval, then a plan
      yield* TestClock.adjust("1 second")
      expect(yield* sleeps).toEqual([300_000]) // one wake-up at a's expiry, none per interval

      yield* TestClock.adjust("1 second") // 2 s
      const aliveShort = yield* setHeldOnlyByCache(cache, ["short"]) // due at 12 s, before 300 s
      yield* Effect.yieldNow()
      expect(yield* sleeps).toEqual([3_000, 300_000])
      yield* TestClock.adjust("1 second") // 3 s
      expect(yield* sleeps).toEqual([12_000, 300_000])
      yield* TestClock.adjust("9 seconds") // 12 s
      yield* collectGarbage
      expect(aliveShort()).toEqual([])
      expect(alive()).toEqual(["a"])
      expect(yield* sleeps).toEqual([300_000])
      yield* TestClock.adjust("288 seconds") // 300 s
      yield* collectGarbage
      expect(alive()).toEqual([])
      expect(yield* sleeps).toEqual([]) // empty again: asleep until a write
      const stats = yield* cache.cacheStats
      expect(stats.evictions.expired).toBe(2)
      expect(stats.hits + stats.misses).toBe(0)
    }))

  it.scoped("sweeper - sleeps a day at most, so that lifetimes longer than a timer can take are still reclaimed", () =>
    Effect.gen(function*() {
      const day = 24 * 60 * 60 * 1000
      const cache = yield* ChronoCache.make({
        lookup: (key: string) => Effect.succeed({ key }),
        capacity: 10,
        timeToLive: "30 days", // past the longest timer of the live clock (about 24.8 days)
        sweepInterval: "1 second"
      })
      const alive = yield* setHeldOnlyByCache(cache, ["a"])
      yield* TestClock.adjust("1 second")
      const planned = Chunk.toReadonlyArray(yield* TestClock.sleeps())
      expect(planned.length).toBeGreaterThan(0)
      expect(Math.max(...planned)).toBeLessThanOrEqual(1_000 + day)
      yield* TestClock.adjust("30 days")
      yield* collectGarbage
      expect(alive()).toEqual([])
    }))

  it.scoped("size - does not count entries whose time has passed, swept or not", () =>
    Effect.gen(function*() {
      const lookup = yield* numbered
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 10,
        timeToLive: "1 second",
        sweepInterval: "1 minute"
      })
      yield* cache.get("a")

      yield* TestClock.adjust("2 seconds")

      expect(yield* cache.size).toBe(0)
      expect((yield* cache.cacheStats).size).toBe(0)
      expect((yield* cache.cacheStats).evictions.expired).toBe(1)
    }))

  it.scoped("sweeper - reclaims idle entries without reads, and spares one read recently", () =>
    Effect.gen(function*() {
      // As above, the values' liveness shows what the sweeper removed without asking the
      // cache anything until the end.
      const cache = yield* ChronoCache.make({
        lookup: (key: string) => Effect.succeed({ key }),
        capacity: 10,
        timeToIdle: "800 millis",
        sweepInterval: "1 second"
      })
      const alive = yield* setHeldOnlyByCache(cache, ["a", "b", "c"])
      yield* TestClock.adjust("600 millis")
      yield* cache.getOption("b")

      yield* TestClock.adjust("399 millis")
      yield* collectGarbage
      const beforeFirstSweep = alive()
      yield* TestClock.adjust("1 millis")
      yield* collectGarbage
      const afterFirstSweep = alive()
      yield* TestClock.adjust("1 second")
      yield* collectGarbage
      const afterSecondSweep = alive()
      const stats = yield* cache.cacheStats

      expect(beforeFirstSweep).toEqual(["a", "b", "c"])
      expect(afterFirstSweep).toEqual(["b"])
      expect(afterSecondSweep).toEqual([])
      expect(stats.evictions.expired).toBe(3)
      expect(stats.size).toBe(0)
    }))

  it.scoped("expiry - each entry is reclaimed when its own time to live passes, through sets and invalidations", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.counting((_key: number) => Effect.succeed(0))
      // The value is the entry's lifetime in millis.
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 100,
        timeToLive: (exit) => Exit.isSuccess(exit) ? Duration.millis(exit.value) : 0,
        sweepInterval: "100 millis"
      })
      const expiresAt = new Map<number, number>()
      const set = (key: number, lifetime: number) =>
        Effect.zipRight(cache.set(key, lifetime), Effect.sync(() => expiresAt.set(key, lifetime)))
      for (let key = 1; key <= 20; key++) yield* set(key, ((key * 7) % 20 + 1) * 100)
      yield* set(1, 50) // moves up the expiry order
      yield* set(2, 3000) // moves down the expiry order
      yield* set(6, Infinity) // leaves the expiry order
      yield* Effect.forEach(
        [3, 4],
        (key) => Effect.zipRight(cache.invalidate(key), Effect.sync(() => expiresAt.delete(key)))
      )

      const observed: Array<string> = []
      const expected: Array<string> = []
      for (let now = 100; now <= 3000; now += 100) {
        yield* TestClock.adjust("100 millis")
        const stats = yield* cache.cacheStats
        const live = [...expiresAt.values()].filter((at) => at > now).length
        observed.push(`${now}: size ${stats.size}, expired ${stats.evictions.expired}`)
        expected.push(`${now}: size ${live}, expired ${expiresAt.size - live}`)
      }

      expect(observed).toEqual(expected)
    }))

  // ---------------------------------------------------------------------------------------
  // A clock that steps backwards

  it.scoped("clock - stepping backwards causes no crash and no mass expiry", () =>
    Effect.gen(function*() {
      const lookup = yield* Lookups.gated((key: string, call) => Effect.succeed(`${key}@${call}`))
      const cache = yield* ChronoCache.make({
        lookup: lookup.lookup,
        capacity: 10,
        timeToLive: "10 seconds",
        timeToIdle: "8 seconds",
        sweepInterval: "1 second"
      })
      // Were an entry dropped, its reload would say so ("b@1" instead of "b").
      yield* lookup.open("b")
      yield* TestClock.adjust("10 seconds")
      yield* Effect.forEach(["a", "b", "c"], (key) => cache.set(key, key))
      const slow = yield* Effect.fork(cache.get("slow"))
      yield* lookup.started("slow")

      // Five seconds back; the sweeper, due at 11 s, then runs once more on the way forward.
      yield* TestClock.setTime(5_000)
      yield* lookup.open("slow")
      const slowValue = yield* Fiber.join(slow)
      const reads = yield* Effect.all([cache.getOption("a"), cache.get("b"), cache.contains("c")])
      yield* cache.set("d", "d")
      yield* TestClock.adjust("6 seconds")
      const later = yield* cache.cacheStats

      expect(slowValue).toBe("slow@1")
      expect(valueOf(reads[0])).toBe("a")
      expect(reads[1]).toBe("b")
      expect(reads[2]).toBe(true)
      expect(later.size).toBe(5)
      expect(later.evictions.expired).toBe(0)
      expect(later.totalLoadTimeMillis).toBe(0)
      expect(valueOf(yield* cache.getOption("d"))).toBe("d")
    }))

  it.scoped("clock - after a step back, time is held at the latest time seen: size agrees with every read", () =>
    Effect.gen(function*() {
      const cache = yield* ChronoCache.make({
        lookup: (key: string) => Effect.succeed(key),
        capacity: 10,
        timeToIdle: "10 seconds",
        sweepInterval: "1 hour"
      })
      yield* TestClock.setTime(100_000)
      yield* cache.set("a", "a")
      yield* TestClock.setTime(50_000) // back 50 s: the cache's time stays at 100 s
      yield* cache.set("b", "b")
      yield* TestClock.setTime(61_000)
      const readable = ["a", "b"].filter((key) => Option.isSome(cache.getOptionSync(key)))
      expect(yield* cache.size).toBe(readable.length)
      expect(readable).toEqual(["a", "b"]) // both accessed at 100 s in the cache's time

      yield* TestClock.setTime(110_000) // the clock passes 100 s again: idle for 10 s
      expect(yield* cache.size).toBe(0)
      expect(Option.isNone(cache.getOptionSync("a"))).toBe(true)
      expect(Option.isNone(cache.getOptionSync("b"))).toBe(true)
    }))
})
