/**
 * The synchronous API and its guard: `getSync`, `getSyncExit` and `getOptionSync`, and the
 * refusal of synchronous reads made from fibers the cache owns (guarantee 1).
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Deferred, Duration, Effect, Exit, Fiber, Option, Runtime, Scope, TestClock } from "effect"
import {
  CacheClosedError,
  ChronoCache,
  type ChronoCacheError,
  LoadPendingError,
  ReentrantAccessError
} from "../src/index.js"

class NotFound extends Error {
  readonly _tag = "NotFound"
}

/**
 * A lookup that counts its runs per key and adds no suspension of its own (the shared test
 * lookups await a gate, which suspends even when open), so a lookup that does not suspend
 * lets a synchronous read, or a nested load, finish at once.
 */
const counting = <V, E>(run: (key: string) => Effect.Effect<V, E>) => {
  const runs = new Map<string, number>()
  return {
    runs,
    total: () => [...runs.values()].reduce((a, b) => a + b, 0),
    lookup: (key: string) =>
      Effect.suspend(() => {
        runs.set(key, (runs.get(key) ?? 0) + 1)
        return run(key)
      })
  }
}

/** What `f` throws, or a marker when it returns. */
const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  return "returned"
}

/** The typed failure of an `Exit`, if it has one. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): Option.Option<E> =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

const expectReentrant = (exit: Exit.Exit<unknown, unknown>, key: unknown) => {
  const error = failureOf(exit)
  expect(Option.isSome(error)).toBe(true)
  const value = Option.getOrThrow(error)
  expect(value).toBeInstanceOf(ReentrantAccessError)
  expect((value as ReentrantAccessError).key).toEqual(key)
}

describe("ChronoCache", () => {
  describe("the guard of synchronous reads", () => {
    it.scoped("getSync - refused inside a loader with ReentrantAccessError that says to use get", () =>
      Effect.gen(function*() {
        const seen: Array<unknown> = []
        const lookups = counting((key: string) =>
          key === "outer"
            ? Effect.sync(() => {
              seen.push(thrown(() => cache.getSync("outer")))
              seen.push(thrown(() => cache.getSync("cached")))
              seen.push(thrown(() => cache.getSync("absent")))
              return "outer value"
            })
            : Effect.succeed(`${key} value`)
        )
        const cache: ChronoCache.ChronoCache<string, string> = yield* ChronoCache.make({
          lookup: lookups.lookup,
          capacity: 10
        })
        yield* cache.set("cached", "cached value")

        const value = yield* cache.get("outer")

        expect(value).toBe("outer value")
        expect(seen).toHaveLength(3)
        for (const error of seen) {
          expect(error).toBeInstanceOf(ReentrantAccessError)
          expect((error as ReentrantAccessError).message).toMatch(/\bget\b/)
          expect((error as ReentrantAccessError).message).toContain("Effect API")
        }
        expect((seen[0] as ReentrantAccessError).key).toBe("outer")
        expect((seen[1] as ReentrantAccessError).key).toBe("cached")
        expect((seen[2] as ReentrantAccessError).key).toBe("absent")
        expect(lookups.runs.get("absent")).toBeUndefined()
      }))

    it.scoped("getSyncExit - refused inside a loader, without starting a load or counting a read", () =>
      Effect.gen(function*() {
        let inner: Exit.Exit<string, ChronoCacheError> | undefined
        const lookups = counting((key: string) =>
          key === "outer"
            ? Effect.sync(() => {
              inner = cache.getSyncExit("other")
              return "outer value"
            })
            : Effect.succeed(`${key} value`)
        )
        const cache: ChronoCache.ChronoCache<string, string> = yield* ChronoCache.make({
          lookup: lookups.lookup,
          capacity: 10
        })

        yield* cache.get("outer")
        const stats = yield* cache.cacheStats

        expect(inner).toBeDefined()
        expectReentrant(inner!, "other")
        expect(lookups.runs.get("other")).toBeUndefined()
        expect(stats.misses).toBe(1)
        expect(stats.hits).toBe(0)
        expect(yield* cache.contains("other")).toBe(false)
      }))

    it.scoped("getSync - refused inside a loader that suspended before the read", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        let inner: Exit.Exit<string, ChronoCacheError> | undefined
        const cache: ChronoCache.ChronoCache<string, string> = yield* ChronoCache.make({
          lookup: (key: string) =>
            Deferred.await(gate).pipe(
              Effect.zipRight(Effect.sync(() => {
                inner = cache.getSyncExit("other")
                return `${key} value`
              }))
            ),
          capacity: 10
        })
        const caller = yield* Effect.fork(cache.get("outer"))

        yield* Deferred.succeed(gate, void 0)
        const value = yield* Fiber.join(caller)

        expect(value).toBe("outer value")
        expectReentrant(inner!, "other")
      }))

    it.scoped("getSync - refused in a fiber the loader forked", () =>
      Effect.gen(function*() {
        const exits: Array<Exit.Exit<string, ChronoCacheError>> = []
        const cache: ChronoCache.ChronoCache<string, string> = yield* ChronoCache.make({
          lookup: (key: string) =>
            Effect.gen(function*() {
              if (key !== "outer") return `${key} value`
              const child = yield* Effect.fork(Effect.sync(() => cache.getSyncExit("cached")))
              const daemon = yield* Effect.forkDaemon(Effect.sync(() => cache.getSyncExit("cached")))
              exits.push(yield* Fiber.join(child), yield* Fiber.join(daemon))
              return "outer value"
            }),
          capacity: 10
        })
        yield* cache.set("cached", "cached value")

        const value = yield* cache.get("outer")

        expect(value).toBe("outer value")
        expect(exits).toHaveLength(2)
        for (const exit of exits) expectReentrant(exit, "cached")
      }))

    it.scoped("getSync - refused on the sweeper's fiber (user code run there through the Clock)", () =>
      Effect.gen(function*() {
        // The sweeper runs no user callback of its own; the one piece of user code it calls
        // is the Clock of the layer that built the cache. A Clock that reads the cache
        // synchronously when armed shows what a read from the sweeper's fiber gets.
        const testClock = yield* Effect.clock
        const probes: Array<{ exit: Exit.Exit<string, ChronoCacheError>; fiber: Option.Option<unknown> }> = []
        let armed = false
        const probingClock: Clock.Clock = {
          [Clock.ClockTypeId]: Clock.ClockTypeId,
          unsafeCurrentTimeMillis: () => {
            if (armed) {
              armed = false
              probes.push({ exit: cache.getSyncExit("kept"), fiber: Fiber.getCurrentFiber() })
            }
            return testClock.unsafeCurrentTimeMillis()
          },
          currentTimeMillis: testClock.currentTimeMillis,
          unsafeCurrentTimeNanos: () => testClock.unsafeCurrentTimeNanos(),
          currentTimeNanos: testClock.currentTimeNanos,
          sleep: (duration) => testClock.sleep(duration)
        }
        const cache: ChronoCache.ChronoCache<string, string> = yield* ChronoCache.make({
          lookup: (key: string) => Effect.succeed(`${key} value`),
          capacity: 10,
          timeToLive: "1 second",
          sweepInterval: "1 second"
        }).pipe(Effect.withClock(probingClock))
        yield* cache.set("expiring", "expiring value")
        yield* TestClock.adjust("500 millis")
        yield* cache.set("kept", "kept value")
        const testFiber = yield* Effect.fiberId

        armed = true
        yield* TestClock.adjust("500 millis")
        armed = false
        const stats = yield* cache.cacheStats

        // The sweeper ran (it reclaimed the expired entry) and its read was refused.
        expect(stats.evictions.expired).toBe(1)
        expect(probes).toHaveLength(1)
        const fiber = probes[0]!.fiber
        expect(Option.isSome(fiber)).toBe(true)
        expect((Option.getOrThrow(fiber) as Fiber.RuntimeFiber<unknown, unknown>).id()).not.toEqual(testFiber)
        expectReentrant(probes[0]!.exit, "kept")
        expect(Option.isSome(cache.getOptionSync("kept"))).toBe(true)
      }))

    it.scoped("getSync - allowed from an unrelated user fiber, which gets the value", () =>
      Effect.gen(function*() {
        const lookups = counting((key: string) => Effect.succeed(`${key} value`))
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })
        yield* cache.set("cached", "cached value")

        const user = yield* Effect.fork(Effect.sync(() => [cache.getSync("cached"), cache.getSync("loaded")]))
        const values = yield* Fiber.join(user)

        expect(values).toEqual(["cached value", "loaded value"])
        expect(lookups.runs.get("loaded")).toBe(1)
      }))

    it.scoped("getSync - allowed from another cache's loader (the guard is per cache)", () =>
      Effect.gen(function*() {
        const other = yield* ChronoCache.make({ lookup: (key: string) => Effect.succeed(`${key} other`), capacity: 10 })
        const cache = yield* ChronoCache.make({
          lookup: (key: string) => Effect.sync(() => `${other.getSync(key)} via cache`),
          capacity: 10
        })

        const value = yield* cache.get("k")

        expect(value).toBe("k other via cache")
        expect(Option.isSome(other.getOptionSync("k"))).toBe(true)
      }))

    it.scoped("getSync - a read from inside a timeToLive function leaves the cache consistent", () =>
      Effect.gen(function*() {
        // Limitation: the time-to-live function runs in the middle of a write (of `set`, or
        // of a load's result). A synchronous read of the same key made from there, on the
        // caller's fiber, finds the half-written entry, starts a second load over it and
        // leaves an entry in the recency list that the index no longer holds.
        const reads: Array<Exit.Exit<string, ChronoCacheError>> = []
        let inside = false
        const lookups = counting((key: string) => Effect.succeed(`${key} loaded`))
        const cache: ChronoCache.ChronoCache<string, string> = yield* ChronoCache.make({
          lookup: lookups.lookup,
          capacity: 3,
          timeToLive: (_exit, key) => {
            if (!inside) {
              inside = true
              reads.push(cache.getSyncExit(key))
              inside = false
            }
            return "1 hour"
          }
        })

        yield* cache.set("a", "a set")
        const loaded = yield* cache.get("b")
        yield* cache.set("c", "c set")

        expect(reads).toHaveLength(3)
        expect(loaded).toBe("b loaded")
        expect(Option.getOrThrow(cache.getOptionSync("a"))).toBe("a set")
        expect(lookups.runs.get("a")).toBeUndefined()
        expect(lookups.runs.get("b")).toBe(1)
        const visible = ["a", "b", "c"].filter((key) => Option.isSome(cache.getOptionSync(key)))
        expect(yield* cache.size).toBe(visible.length)
      }))

    it.scoped("getOptionSync - allowed inside a loader: the value when present, None otherwise", () =>
      Effect.gen(function*() {
        const seen: Array<Option.Option<string>> = []
        const cache: ChronoCache.ChronoCache<string, string> = yield* ChronoCache.make({
          lookup: (key: string) =>
            Effect.sync(() => {
              seen.push(cache.getOptionSync("cached"), cache.getOptionSync("absent"), cache.getOptionSync(key))
              return `${key} value`
            }),
          capacity: 10
        })
        yield* cache.set("cached", "cached value")

        const value = yield* cache.get("outer")

        expect(value).toBe("outer value")
        expect(seen).toHaveLength(3)
        expect(Option.isSome(seen[0]!)).toBe(true)
        expect(Option.getOrThrow(seen[0]!)).toBe("cached value")
        expect(Option.isNone(seen[1]!)).toBe(true)
        expect(Option.isNone(seen[2]!)).toBe(true) // its own key is still loading
        expect(yield* cache.contains("absent")).toBe(false)
      }))
  })

  describe("getSync and getSyncExit", () => {
    it.scoped("getSync - a hit returns the value and counts one hit", () =>
      Effect.gen(function*() {
        const lookups = counting((key: string) => Effect.succeed(`${key} value`))
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })
        yield* cache.get("k")
        const before = yield* cache.cacheStats

        const value = cache.getSync("k")
        const exit = cache.getSyncExit("k")

        const after = yield* cache.cacheStats
        expect(value).toBe("k value")
        expect(Exit.isSuccess(exit) && exit.value).toBe("k value")
        expect(after.hits - before.hits).toBe(2)
        expect(after.misses - before.misses).toBe(0)
        expect(after.joins - before.joins).toBe(0)
        expect(lookups.runs.get("k")).toBe(1)
      }))

    it.scoped("getSync - a miss whose loader does not suspend returns the value and caches it", () =>
      Effect.gen(function*() {
        const lookups = counting((key: string) => Effect.succeed(`${key} value`))
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })

        const value = cache.getSync("k")

        expect(value).toBe("k value")
        const found = cache.getOptionSync("k")
        expect(Option.isSome(found)).toBe(true)
        expect(Option.getOrThrow(found)).toBe("k value")
        expect(cache.getSync("k")).toBe("k value")
        expect(lookups.runs.get("k")).toBe(1)
        const stats = yield* cache.cacheStats
        expect(stats.misses).toBe(1)
        expect(stats.hits).toBe(1)
        expect(stats.size).toBe(1)
      }))

    it.scoped("getSyncExit - a miss whose loader does not suspend returns a success", () =>
      Effect.gen(function*() {
        const lookups = counting((key: string) => Effect.sync(() => key.length))
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })

        const exit = cache.getSyncExit("four")

        expect(Exit.isSuccess(exit)).toBe(true)
        expect(Exit.isSuccess(exit) && exit.value).toBe(4)
        expect(Option.isSome(cache.getOptionSync("four"))).toBe(true)
        expect(lookups.runs.get("four")).toBe(1)
      }))

    it.scoped(
      "getSync - a miss whose loader does not suspend returns the value under loadTimeout too",
      () =>
        Effect.gen(function*() {
          // Limitation: with `loadTimeout` the cache races the lookup against a timer on
          // forked fibers, so even a lookup that never suspends answers LoadPendingError.
          // Marked as failing until the engine runs such a lookup on the load's own fiber.
          const lookups = counting((key: string) => Effect.succeed(`${key} value`))
          const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10, loadTimeout: "1 second" })

          const exit = cache.getSyncExit("k")

          expect(Exit.isSuccess(exit) && exit.value).toBe("k value")
          expect(lookups.runs.get("k")).toBe(1)
        })
    )

    it.scoped("getSync - a miss whose loader suspends fails with LoadPendingError and the load goes on", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const finished = yield* Deferred.make<void>()
        const lookups = counting((key: string) =>
          Deferred.await(gate).pipe(
            Effect.zipRight(Deferred.succeed(finished, void 0)),
            Effect.as(`${key} value`)
          )
        )
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })

        const error = thrown(() => cache.getSync("k"))

        expect(error).toBeInstanceOf(LoadPendingError)
        expect((error as LoadPendingError).key).toBe("k")
        expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
        expect((yield* cache.cacheStats).pendingLoads).toBe(1)

        yield* Deferred.succeed(gate, void 0)
        yield* Deferred.await(finished)

        expect(Option.getOrThrow(cache.getOptionSync("k"))).toBe("k value")
        expect(cache.getSync("k")).toBe("k value")
        expect(lookups.runs.get("k")).toBe(1)
        expect((yield* cache.cacheStats).pendingLoads).toBe(0)
      }))

    it.scoped("getSyncExit - a load in flight from get answers LoadPendingError and get still gets the value", () =>
      Effect.gen(function*() {
        const started = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const lookups = counting((key: string) =>
          Deferred.succeed(started, void 0).pipe(
            Effect.zipRight(Deferred.await(gate)),
            Effect.as(`${key} value`)
          )
        )
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })
        const caller = yield* Effect.fork(cache.get("k"))
        yield* Deferred.await(started)

        const exit = cache.getSyncExit("k")
        const error = thrown(() => cache.getSync("k"))

        const pending = failureOf(exit)
        expect(Option.isSome(pending)).toBe(true)
        expect(Option.getOrThrow(pending)).toBeInstanceOf(LoadPendingError)
        expect(error).toBeInstanceOf(LoadPendingError)
        expect((yield* cache.cacheStats).joins).toBe(2)

        yield* Deferred.succeed(gate, void 0)
        const value = yield* Fiber.join(caller)

        expect(value).toBe("k value")
        expect(cache.getSync("k")).toBe("k value")
        expect(lookups.runs.get("k")).toBe(1)
      }))

    it.scoped("getSync - a failing loader that does not suspend throws the typed error itself", () =>
      Effect.gen(function*() {
        const failure = new NotFound("no such user")
        const lookups = counting((_: string) => Effect.fail(failure))
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })

        const error = thrown(() => cache.getSync("k"))
        const exit = cache.getSyncExit("k")

        expect(error).toBe(failure)
        expect(error).toBeInstanceOf(NotFound)
        expect(Runtime.isFiberFailure(error)).toBe(false)
        expect(Option.getOrThrow(failureOf(exit))).toBe(failure)
        expect(lookups.runs.get("k")).toBe(2) // failures are not kept
      }))

    it.scoped("getSync - a loader that dies throws the defect itself", () =>
      Effect.gen(function*() {
        const defect = new Error("the origin is broken")
        const dying = yield* ChronoCache.make({ lookup: (_: string) => Effect.die(defect), capacity: 10 })
        const throwing = yield* ChronoCache.make({
          lookup: (_: string): Effect.Effect<string> => {
            throw defect
          },
          capacity: 10
        })

        const fromDie = thrown(() => dying.getSync("k"))
        const fromThrow = thrown(() => throwing.getSync("k"))
        const exit = dying.getSyncExit("k")

        expect(fromDie).toBe(defect)
        expect(fromThrow).toBe(defect)
        expect(Runtime.isFiberFailure(fromDie)).toBe(false)
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      }))

    it.effect("getSync - after close throws CacheClosedError, and getOptionSync returns None", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const cache = yield* ChronoCache.make({
          lookup: (key: string) => Effect.succeed(`${key} value`),
          capacity: 10
        }).pipe(Scope.extend(scope))
        yield* cache.get("k")
        expect(Option.isSome(cache.getOptionSync("k"))).toBe(true)

        yield* Scope.close(scope, Exit.void)

        expect(thrown(() => cache.getSync("k"))).toBeInstanceOf(CacheClosedError)
        expect(thrown(() => cache.getSync("absent"))).toBeInstanceOf(CacheClosedError)
        expect(Option.getOrThrow(failureOf(cache.getSyncExit("k")))).toBeInstanceOf(CacheClosedError)
        expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
        expect(Option.isNone(cache.getOptionSync("absent"))).toBe(true)
      }))
  })

  describe("getOptionSync", () => {
    it.scoped("getOptionSync - a miss never loads", () =>
      Effect.gen(function*() {
        const lookups = counting((key: string) => Effect.succeed(`${key} value`))
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })

        const found = cache.getOptionSync("k")

        expect(Option.isNone(found)).toBe(true)
        expect(lookups.total()).toBe(0)
        const stats = yield* cache.cacheStats
        expect(stats.misses).toBe(0)
        expect(stats.pendingLoads).toBe(0)
        expect(yield* cache.contains("k")).toBe(false)
      }))

    it.scoped("getOptionSync - None while a load is in flight, without waiting or loading again", () =>
      Effect.gen(function*() {
        const started = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const lookups = counting((key: string) =>
          Deferred.succeed(started, void 0).pipe(Effect.zipRight(Deferred.await(gate)), Effect.as(`${key} value`))
        )
        const cache = yield* ChronoCache.make({ lookup: lookups.lookup, capacity: 10 })
        const caller = yield* Effect.fork(cache.get("k"))
        yield* Deferred.await(started)

        const during = cache.getOptionSync("k")
        yield* Deferred.succeed(gate, void 0)
        yield* Fiber.join(caller)
        const after = cache.getOptionSync("k")

        expect(Option.isNone(during)).toBe(true)
        expect(Option.getOrThrow(after)).toBe("k value")
        expect(lookups.runs.get("k")).toBe(1)
      }))

    it.scoped("getOptionSync - counts as a read for recency", () =>
      Effect.gen(function*() {
        const cache = yield* ChronoCache.make({ lookup: (key: string) => Effect.succeed(key), capacity: 2 })
        yield* cache.set("a", "a")
        yield* cache.set("b", "b")

        const read = cache.getOptionSync("a")
        yield* cache.set("c", "c")

        expect(Option.isSome(read)).toBe(true)
        expect(yield* cache.size).toBe(2)
        expect(Option.isNone(cache.getOptionSync("b"))).toBe(true)
        expect(Option.isSome(cache.getOptionSync("a"))).toBe(true)
        expect(Option.isSome(cache.getOptionSync("c"))).toBe(true)
      }))

    it.scoped("getOptionSync - repeated hits return the same Option (no allocation), renewed when the value changes", () =>
      Effect.gen(function*() {
        const cache = yield* ChronoCache.make({ lookup: (key: string) => Effect.succeed(`${key} value`), capacity: 10 })
        yield* cache.get("k")

        const first = cache.getOptionSync("k")
        const second = cache.getOptionSync("k")
        yield* cache.set("k", "new value")
        const renewed = cache.getOptionSync("k")

        expect(Option.getOrThrow(first)).toBe("k value")
        expect(second).toBe(first)
        expect(Option.getOrThrow(renewed)).toBe("new value")
        expect(cache.getOptionSync("k")).toBe(renewed)
      }))

    it.scoped("getOptionSync - every hit returns the current value, a kept failure and a pending load return None", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const cache = yield* ChronoCache.make({
          lookup: (key: string) =>
            key === "slow"
              ? Effect.as(Deferred.await(gate), "slow value")
              : key === "bad"
              ? Effect.fail("no")
              : Effect.succeed(`${key} value`),
          capacity: 10,
          timeToLive: () => Duration.infinity // keeps failures too
        })
        yield* cache.get("k")
        yield* Effect.flip(cache.get("bad"))
        const slow = yield* Effect.fork(cache.get("slow"))
        yield* Effect.yieldNow()

        const first = cache.getOptionSync("k")
        const second = cache.getOptionSync("k")
        yield* cache.set("k", "new value")
        const renewed = cache.getOptionSync("k")

        expect(Option.getOrThrow(first)).toBe("k value")
        expect(Option.getOrThrow(second)).toBe("k value")
        expect(Option.getOrThrow(renewed)).toBe("new value")
        expect(Option.isNone(cache.getOptionSync("bad"))).toBe(true)
        expect(Option.isNone(cache.getOptionSync("slow"))).toBe(true)
        yield* Deferred.succeed(gate, undefined)
        expect(yield* Fiber.join(slow)).toBe("slow value")
        expect(Option.getOrThrow(cache.getOptionSync("slow"))).toBe("slow value")
      }))
  })
})
