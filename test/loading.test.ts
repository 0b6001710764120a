/**
 * Loading: guarantees 3 (no dangling waiters) and 4 (no cross-runtime poisoning).
 *
 * Every load here waits on a gate that the test opens, so that the order of events is the
 * test's and not the scheduler's; time comes from `TestClock`. The tests that use real
 * `ManagedRuntime`s drive slowness with gates too, never with time.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Data,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberId,
  FiberRef,
  HashMap,
  Layer,
  Logger,
  ManagedRuntime,
  Option,
  Scope,
  TestClock
} from "effect"
import { CacheClosedError, ChronoCache, LoadTimeoutError } from "../src/index.js"
import { settle } from "./utils/scheduling.js"

// -----------------------------------------------------------------------------------------
// Helpers

class LoaderError extends Data.TaggedError("LoaderError")<{ readonly reason: string }> {}

class LoaderDefect extends Error {}

/** One call of a gated lookup: its key, its gate, and what became of it. */
interface Call {
  readonly key: string
  /** Completed by the test with the effect the call then runs (succeed, fail, die...). */
  readonly gate: Deferred.Deferred<Effect.Effect<string, LoaderError>>
  /** Set when the call was interrupted from outside (not by itself). */
  interrupted: boolean
  /** Set when the call ended in any way. */
  ended: boolean
}

/** A lookup whose every call waits on its own gate until the test opens it. */
class Gates {
  readonly calls: Array<Call> = []

  readonly lookup = (key: string): Effect.Effect<string, LoaderError> =>
    Effect.suspend(() => {
      const call: Call = { key, gate: Deferred.unsafeMake(FiberId.none), interrupted: false, ended: false }
      this.calls.push(call)
      return Deferred.await(call.gate).pipe(
        Effect.flatten,
        Effect.onExit(() =>
          Effect.sync(() => {
            call.ended = true
          })
        ),
        // Only an interruption from outside reaches this handler with the fiber interrupted.
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            call.interrupted = true
          })
        )
      )
    })

  call(i: number): Call {
    const call = this.calls[i]
    if (call === undefined) throw new Error(`the lookup was called ${this.calls.length} times, not ${i + 1}`)
    return call
  }

  /** Opens the gate of call `i` with an effect for it to run. */
  open(i: number, effect: Effect.Effect<string, LoaderError>): Effect.Effect<void> {
    return Effect.suspend(() => Deferred.succeed(this.call(i).gate, effect)).pipe(Effect.zipRight(settle()))
  }

  succeed(i: number, value: string): Effect.Effect<void> {
    return this.open(i, Effect.succeed(value))
  }
}

/** Forks `effect` and lets it run up to its first suspension. */
const start = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<Fiber.RuntimeFiber<A, E>> =>
  Effect.fork(effect).pipe(Effect.tap(() => settle()))

/** The exit of a fiber that must be done by now (polls, never waits). */
const exitOf = <A, E>(fiber: Fiber.RuntimeFiber<A, E>): Exit.Exit<A, E> => {
  const exit = fiber.unsafePoll()
  if (exit === null) throw new Error("the fiber is still waiting")
  return exit
}

const isWaiting = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean => fiber.unsafePoll() === null

const valueOf = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`expected a success, got ${Cause.pretty(exit.cause)}`)
  return exit.value
}

const errorOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${String(exit.value)}`)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

const defectOf = <A, E>(exit: Exit.Exit<A, E>): unknown => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a defect, got ${String(exit.value)}`)
  const defect = Cause.dieOption(exit.cause)
  if (Option.isNone(defect)) throw new Error(`expected a defect, got ${Cause.pretty(exit.cause)}`)
  return defect.value
}

const someValue = <A>(option: Option.Option<A>): A => {
  expect(Option.isSome(option)).toBe(true)
  return Option.getOrThrow(option)
}

/** What a promise settled with, without throwing. */
const settled = <A>(promise: Promise<A>): Promise<{ ok: true; value: A } | { ok: false; error: unknown }> =>
  promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))

/** Lets plain promise callbacks and ready fibers run. */
const flush = () => Effect.runPromise(settle())

// -----------------------------------------------------------------------------------------

describe("ChronoCache", () => {
  describe("loadTimeout", () => {
    it.scoped("loadTimeout - a load that never ends fails its waiters and the next get loads again", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, loadTimeout: "1 second" })
        const first = yield* start(cache.get("k"))
        const second = yield* start(cache.get("k"))

        yield* TestClock.adjust("999 millis")
        const waitingBefore = [isWaiting(first), isWaiting(second)]
        yield* TestClock.adjust("1 millis")
        yield* settle()

        expect(waitingBefore).toEqual([true, true])
        for (const fiber of [first, second]) {
          const error = errorOf(exitOf(fiber))
          expect(error).toBeInstanceOf(LoadTimeoutError)
          const timeout = error as LoadTimeoutError
          expect(timeout.key).toBe("k")
          expect(timeout.timeoutMillis).toBe(1000)
          expect(timeout.message).toContain("\"k\"")
          expect(timeout.message).toContain("1000 ms")
        }
        expect(gates.calls.length).toBe(1)
        expect(gates.call(0).interrupted).toBe(true)
        expect(yield* cache.contains("k")).toBe(false)
        expect(yield* cache.size).toBe(0)
        const stats = yield* cache.cacheStats
        expect(stats.loadTimeouts).toBe(1)
        expect(stats.pendingLoads).toBe(0)

        const retry = yield* start(cache.get("k"))
        yield* gates.succeed(1, "fresh")

        expect(gates.calls.length).toBe(2)
        expect(valueOf(exitOf(retry))).toBe("fresh")
      }))

    it.scoped("loadTimeout - a load that ends in time is not failed and its value stays", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, loadTimeout: "1 second" })
        const waiter = yield* start(cache.get("k"))

        yield* TestClock.adjust("999 millis")
        yield* gates.succeed(0, "v")
        yield* TestClock.adjust("10 seconds")
        yield* settle()

        expect(valueOf(exitOf(waiter))).toBe("v")
        expect(someValue(yield* cache.getOption("k"))).toBe("v")
        expect(gates.call(0).interrupted).toBe(false)
        expect((yield* cache.cacheStats).loadTimeouts).toBe(0)
      }))

    it.scoped("loadTimeout - a load stuck in an uninterruptible region still answers its waiters on time", () =>
      Effect.gen(function*() {
        let loads = 0
        const never = Effect.never.pipe(Effect.uninterruptible)
        const cache = yield* ChronoCache.make({
          // The first load cannot even be interrupted; the second succeeds at once.
          lookup: (key: string) => Effect.suspend(() => ++loads === 1 ? never : Effect.succeed(`${key}${loads}`)),
          capacity: 10,
          loadTimeout: "1 second"
        })
        const stuck = yield* start(cache.get("k"))

        yield* TestClock.adjust("1 second")
        yield* settle()
        const fresh = yield* cache.get("k")

        expect(errorOf(exitOf(stuck))).toBeInstanceOf(LoadTimeoutError)
        expect(fresh).toBe("k2")
        expect((yield* cache.cacheStats).pendingLoads).toBe(0)
      }))
  })

  describe("waiters", () => {
    it.scoped("waiters - interrupting the first of three waiters does not fail the others", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        const first = yield* start(cache.get("k"))
        const second = yield* start(cache.get("k"))
        const third = yield* start(cache.get("k"))

        yield* Fiber.interrupt(first)
        yield* gates.succeed(0, "v")

        expect(Exit.isInterrupted(exitOf(first))).toBe(true)
        expect(valueOf(exitOf(second))).toBe("v")
        expect(valueOf(exitOf(third))).toBe("v")
        expect(gates.calls.length).toBe(1)
        expect(gates.call(0).interrupted).toBe(false)
      }))

    it.scoped("waiters - all waiters of a failing load get the same failure at the same time", () =>
      Effect.gen(function*() {
        let loads = 0
        const error = new LoaderError({ reason: "origin down" })
        const cache = yield* ChronoCache.make({
          lookup: (_: string) =>
            Effect.suspend(() => {
              loads++
              return Effect.sleep("100 millis").pipe(Effect.zipRight(Effect.fail(error)))
            }),
          capacity: 10
        })
        const waiters = yield* Effect.forEach(Array.from({ length: 50 }), () => Effect.fork(cache.get("k")))
        yield* settle()

        yield* TestClock.adjust("99 millis")
        const waitingBefore = waiters.filter(isWaiting).length
        yield* TestClock.adjust("1 millis")
        yield* settle()

        expect(waitingBefore).toBe(50)
        expect(loads).toBe(1)
        for (const fiber of waiters) expect(errorOf(exitOf(fiber))).toBe(error)
      }))

    it.scoped("waiters - a failed load is gone before its waiters resume, so their retries share one fresh load", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        const retrying = cache.get("k").pipe(Effect.catchTag("LoaderError", () => cache.get("k")))
        const waiters = yield* Effect.forEach(Array.from({ length: 5 }), () => start(retrying))

        yield* gates.open(0, Effect.fail(new LoaderError({ reason: "first try" })))
        const waitingForRetry = waiters.filter(isWaiting).length
        yield* gates.succeed(1, "second try")

        expect(waitingForRetry).toBe(5)
        expect(gates.calls.length).toBe(2)
        for (const fiber of waiters) expect(valueOf(exitOf(fiber))).toBe("second try")
      }))

    it.scoped("waiters - invalidate wins over a load in flight, whose caller still gets its value", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        const waiter = yield* start(cache.get("k"))

        yield* cache.invalidate("k")
        yield* gates.succeed(0, "stale")

        expect(valueOf(exitOf(waiter))).toBe("stale")
        expect(Option.isNone(yield* cache.getOption("k"))).toBe(true)
        expect(yield* cache.size).toBe(0)
      }))

    it.scoped("waiters - a load whose entry was removed never writes into the entry that reused its storage", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        const first = yield* start(cache.get("a"))
        const refresh = yield* start(cache.get("r"))
        yield* gates.succeed(1, "r value")
        const second = yield* start(cache.refresh("r"))

        // Both entries in flight are removed, then two new keys take their freed storage.
        yield* cache.invalidate("a")
        yield* cache.invalidate("r")
        yield* cache.set("b", "b value")
        yield* cache.set("c", "c value")
        yield* gates.succeed(0, "stale a")
        yield* gates.succeed(2, "stale r")

        expect(valueOf(exitOf(first))).toBe("stale a")
        expect(valueOf(exitOf(refresh))).toBe("r value")
        expect(exitOf(second)._tag).toBe("Success")
        expect(someValue(yield* cache.getOption("b"))).toBe("b value")
        expect(someValue(yield* cache.getOption("c"))).toBe("c value")
        expect(Option.isNone(yield* cache.getOption("a"))).toBe(true)
        expect(Option.isNone(yield* cache.getOption("r"))).toBe(true)
        expect(yield* cache.size).toBe(2)
      }))
    it.scoped("waiters - a loader that interrupts itself is a defect for its waiters, never an interruption", () =>
      Effect.gen(function*() {
        for (const loadTimeout of [undefined, "1 minute"] as const) {
          const gates = new Gates()
          const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, loadTimeout })
          const waiters = [yield* start(cache.get("k")), yield* start(cache.get("k"))]

          yield* gates.open(0, Effect.interrupt)

          for (const fiber of waiters) {
            const exit = exitOf(fiber)
            expect(Exit.isFailure(exit) && Cause.isInterrupted(exit.cause)).toBe(false)
            expect(defectOf(exit)).toBeInstanceOf(Error)
          }
          expect(yield* cache.contains("k")).toBe(false)
        }
      }))
  })

  describe("abandonedLoads", () => {
    it.scoped("abandonedLoads - \"complete\": a load whose waiters all left finishes and keeps its value", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        const waiters = [yield* start(cache.get("k")), yield* start(cache.get("k"))]

        yield* Effect.forEach(waiters, Fiber.interrupt)
        yield* settle()
        const runningAfterLeave = (yield* cache.cacheStats).pendingLoads
        yield* gates.succeed(0, "kept")
        const next = yield* cache.get("k")

        expect(runningAfterLeave).toBe(1)
        expect(gates.call(0).interrupted).toBe(false)
        expect(next).toBe("kept")
        expect(gates.calls.length).toBe(1)
      }))

    it.scoped("abandonedLoads - \"interrupt\": a load whose waiters all left is interrupted and forgotten", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, abandonedLoads: "interrupt" })
        const waiters = [yield* start(cache.get("k")), yield* start(cache.get("k"))]

        yield* Fiber.interrupt(waiters[0]!)
        yield* settle()
        const interruptedWithOneLeft = gates.call(0).interrupted
        yield* Fiber.interrupt(waiters[1]!)
        yield* settle()

        expect(interruptedWithOneLeft).toBe(false)
        expect(gates.call(0).interrupted).toBe(true)
        expect(yield* cache.contains("k")).toBe(false)
        expect((yield* cache.cacheStats).pendingLoads).toBe(0)
        const next = yield* start(cache.get("k"))
        yield* gates.succeed(1, "again")
        expect(gates.calls.length).toBe(2)
        expect(valueOf(exitOf(next))).toBe("again")
      }))

    // The joining caller counts as a waiter only once it reaches the wait, a few steps after
    // it found the load. When the runtime preempts it in between and the last counted waiter
    // leaves then, the load is abandoned under it: it must start over, not inherit that.
    it.scoped("abandonedLoads - \"interrupt\": a caller joining as the last waiter leaves is not failed by it", () =>
      Effect.gen(function*() {
        // The joining fiber yields every few operations; leaving after 0, 1, 2... turns of the
        // scheduler puts the leave into every gap of its path from `get` to the wait.
        const answers: Array<string> = []
        for (let turns = 0; turns < 40; turns++) {
          const gates = new Gates()
          const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, abandonedLoads: "interrupt" })
          const leaving = yield* start(cache.get("k"))
          const joining = yield* Effect.fork(cache.get("k").pipe(Effect.withMaxOpsBeforeYield(10)))

          for (let turn = 0; turn < turns; turn++) yield* Effect.yieldNow()
          yield* Fiber.interrupt(leaving)
          yield* settle(300)
          for (const call of gates.calls) yield* Deferred.succeed(call.gate, Effect.succeed("v"))
          yield* settle(300)

          const exit = joining.unsafePoll()
          answers.push(
            exit === null ? "waiting" : Exit.isSuccess(exit) ? exit.value : Cause.pretty(exit.cause).split("\n")[0]!
          )
        }
        expect(answers.filter((answer) => answer !== "v")).toEqual([])
      }))

    it.scoped("abandonedLoads - \"interrupt\": a load keeps going while one waiter remains", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, abandonedLoads: "interrupt" })
        const leaving = yield* start(cache.get("k"))
        const staying = yield* start(cache.get("k"))

        yield* Fiber.interrupt(leaving)
        yield* gates.succeed(0, "v")

        expect(gates.call(0).interrupted).toBe(false)
        expect(valueOf(exitOf(staying))).toBe("v")
        expect(someValue(yield* cache.getOption("k"))).toBe("v")
      }))
    it.scoped("abandonedLoads - \"interrupt\": a load a synchronous read was told goes on is never abandoned", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, abandonedLoads: "interrupt" })
        const pending = cache.getSyncExit("k")
        const joiner = yield* start(cache.get("k"))

        yield* Fiber.interrupt(joiner)
        yield* settle()
        const stillLoading = (yield* cache.cacheStats).pendingLoads
        yield* gates.succeed(0, "v")

        expect(Exit.isFailure(pending)).toBe(true)
        expect(stillLoading).toBe(1)
        expect(gates.call(0).interrupted).toBe(false)
        expect(someValue(yield* cache.getOption("k"))).toBe("v")
      }))
  })

  describe("close", () => {
    it.scoped("close - a cache built in an uninterruptible region still closes and still times out loads", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const scope = yield* Scope.make()
        // The acquire step of acquireRelease runs uninterruptibly; so did the building fiber.
        const cache = yield* Effect.acquireRelease(
          ChronoCache.make({ lookup: gates.lookup, capacity: 10, timeToLive: "1 minute", loadTimeout: "1 second" }),
          () => Effect.void
        ).pipe(Scope.extend(scope))
        const waiter = yield* start(cache.get("k"))

        yield* TestClock.adjust("1 second")
        yield* settle()
        const timedOut = gates.call(0).interrupted
        const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
        yield* TestClock.adjust("1 second")
        yield* settle()

        expect(errorOf(exitOf(waiter))).toBeInstanceOf(LoadTimeoutError)
        expect(timedOut).toBe(true)
        expect(closing.unsafePoll()).not.toBeNull()
      }))

    it.scoped("close - closing the scope answers every waiter with CacheClosedError and interrupts the loads", () =>
      Effect.gen(function*() {
        for (const loadTimeout of [undefined, "1 minute"] as const) {
          const gates = new Gates()
          const scope = yield* Scope.make()
          const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, loadTimeout }).pipe(
            Scope.extend(scope)
          )
          const waiters: Array<Fiber.RuntimeFiber<unknown, unknown>> = [
            yield* start(cache.get("a")),
            yield* start(cache.get("a")),
            yield* start(cache.get("b")),
            yield* start(cache.refresh("c"))
          ]

          yield* Scope.close(scope, Exit.void)
          yield* settle()

          for (const fiber of waiters) expect(errorOf(exitOf(fiber))).toBeInstanceOf(CacheClosedError)
          expect(gates.calls.map((call) => call.interrupted)).toEqual([true, true, true])
        }
      }))

    it.scoped("close - after close every call fails at once with CacheClosedError", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const cache = yield* ChronoCache.make({
          lookup: (key: string) => Effect.succeed(key),
          capacity: 10,
          name: "users"
        }).pipe(Scope.extend(scope))
        yield* cache.set("k", "v")

        yield* Scope.close(scope, Exit.void)

        // Effect members, run synchronously: a member that waited would not return here.
        const members: Array<Effect.Effect<unknown, unknown>> = [
          cache.get("k"),
          cache.getOption("k"),
          cache.contains("k"),
          cache.set("k", "w"),
          cache.refresh("k"),
          cache.invalidate("k"),
          cache.invalidateAll,
          cache.size,
          cache.cacheStats
        ]
        for (const member of members) {
          const error = errorOf(Effect.runSyncExit(member))
          expect(error).toBeInstanceOf(CacheClosedError)
          expect((error as CacheClosedError).message).toContain("users")
        }
        expect(errorOf(cache.getSyncExit("k"))).toBeInstanceOf(CacheClosedError)
        expect(() => cache.getSync("k")).toThrow(CacheClosedError)
        expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
        const promised = yield* Effect.promise(() => settled(cache.getPromise("k")))
        expect(promised.ok).toBe(false)
        expect(promised.ok ? undefined : promised.error).toBeInstanceOf(CacheClosedError)
      }))
  })

  describe("runtimes", () => {
    class Origin extends Context.Tag("test/Origin")<Origin, string>() {}

    const Side = FiberRef.unsafeMake("default")

    it.scoped("runtimes - loaders see the services of the cache's layer, never the caller's", () =>
      Effect.gen(function*() {
        class Names extends Context.Tag("test/Names")<Names, ChronoCache.ChronoCache<string, string>>() {}
        const layer = ChronoCache.layer(Names, {
          lookup: (key: string) => Effect.map(Origin, (origin) => `${origin}:${key}`),
          capacity: 10
        }).pipe(Layer.provide(Layer.succeed(Origin, "cache")))
        const cache = Context.get(yield* Layer.build(layer), Names)

        const fromEffect = yield* cache.get("a").pipe(Effect.provideService(Origin, "caller"))
        const fromPromise = yield* Effect.promise(() => cache.getPromise("b"))

        expect(fromEffect).toBe("cache:a")
        expect(fromPromise).toBe("cache:b")
      }))

    it.scoped("runtimes - loaders see the FiberRefs of the cache's layer, never the caller's", () =>
      Effect.gen(function*() {
        const seen = (key: string) =>
          Effect.gen(function*() {
            const side = yield* FiberRef.get(Side)
            const annotations = yield* FiberRef.get(FiberRef.currentLogAnnotations)
            const annotated = Option.getOrElse(HashMap.get(annotations, "side"), () => "none")
            return `${key}:${side}:${String(annotated)}`
          })
        const cache = yield* ChronoCache.make({ lookup: seen, capacity: 10 }).pipe(
          Effect.locally(Side, "cache"),
          Effect.annotateLogs("side", "cache")
        )

        const value = yield* cache.get("k").pipe(Effect.locally(Side, "caller"), Effect.annotateLogs("side", "caller"))

        expect(value).toBe("k:cache:cache")
      }))

    it("runtimes - disposing a caller's runtime does not fail the other waiters (case 15)", async () => {
      class Users extends Context.Tag("test/Users")<Users, ChronoCache.ChronoCache<string, string>>() {}
      const gate = Effect.runSync(Deferred.make<void>())
      let loads = 0
      const cacheRuntime = ManagedRuntime.make(
        ChronoCache.layer(Users, {
          lookup: (key: string) =>
            Effect.gen(function*() {
              loads++
              // "k" waits for the test to open its gate; any other key never ends.
              yield* key === "k" ? Deferred.await(gate) : Effect.never
              return `${yield* Origin}:${key}`
            }),
          capacity: 10
        }).pipe(Layer.provide(Layer.succeed(Origin, "cache")))
      )
      const cache = await cacheRuntime.runPromise(Users)
      // The second runtime's get is a fiber of that runtime's scope, so disposing it
      // interrupts the very caller that started the load.
      let callerInterrupted = false
      const callerRuntime = ManagedRuntime.make(
        Layer.scopedDiscard(Effect.forkScoped(
          cache.get("k").pipe(Effect.onInterrupt(() => Effect.sync(() => (callerInterrupted = true))))
        )).pipe(Layer.provideMerge(Layer.succeed(Origin, "caller")))
      )
      await callerRuntime.runtime()
      await flush()
      const startedByCaller = loads

      const plain = settled(cache.getPromise("k"))
      await flush()
      await callerRuntime.dispose()
      Effect.runSync(Deferred.succeed(gate, undefined))
      const answer = await plain

      expect(startedByCaller).toBe(1)
      expect(callerInterrupted).toBe(true)
      expect(answer).toEqual({ ok: true, value: "cache:k" })
      expect(loads).toBe(1)

      const pendingAtDispose = settled(cache.getPromise("other"))
      await flush()
      await cacheRuntime.dispose()
      const answered = await pendingAtDispose
      const later = await settled(cache.getPromise("k"))

      expect(answered.ok ? answered.value : answered.error).toBeInstanceOf(CacheClosedError)
      expect(later.ok ? later.value : later.error).toBeInstanceOf(CacheClosedError)
      expect(errorOf(Effect.runSyncExit(cache.get("k")))).toBeInstanceOf(CacheClosedError)
      expect(errorOf(Effect.runSyncExit(cache.set("k", "v")))).toBeInstanceOf(CacheClosedError)
      expect(errorOf(Effect.runSyncExit(cache.size))).toBeInstanceOf(CacheClosedError)
      expect(() => cache.getSync("k")).toThrow(CacheClosedError)
      expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
    })

    it("runtimes - a caller from another runtime is served, and loads still run on the cache's", async () => {
      class Users extends Context.Tag("test/Users")<Users, ChronoCache.ChronoCache<string, string>>() {}
      const gate = Effect.runSync(Deferred.make<void>())
      const cacheRuntime = ManagedRuntime.make(
        ChronoCache.layer(Users, {
          lookup: (key: string) => Deferred.await(gate).pipe(Effect.zipRight(Effect.map(Origin, (o) => `${o}:${key}`))),
          capacity: 10
        }).pipe(Layer.provide(Layer.succeed(Origin, "cache")))
      )
      const callerRuntime = ManagedRuntime.make(Layer.succeed(Origin, "caller"))
      const cache = await cacheRuntime.runPromise(Users)

      const first = callerRuntime.runFork(cache.get("k"))
      const second = callerRuntime.runFork(cache.get("k"))
      await flush()
      await Effect.runPromise(Fiber.interrupt(first))
      Effect.runSync(Deferred.succeed(gate, undefined))
      const exit = await Effect.runPromise(Fiber.await(second))

      expect(valueOf(exit)).toBe("cache:k")
      await callerRuntime.dispose()
      await cacheRuntime.dispose()
    })
  })

  describe("refresh", () => {
    it.scoped("refresh - an entry evicted for size while it refreshes stays evicted, in exact LRU order", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 2 })
        const loadA = yield* start(cache.get("a"))
        yield* gates.succeed(0, "a1")
        const loadB = yield* start(cache.get("b"))
        yield* gates.succeed(1, "b1")
        yield* Fiber.join(loadA)
        yield* Fiber.join(loadB)
        const refreshing = yield* start(cache.refresh("a"))

        yield* cache.set("c", "c1") // a is the least recently used: evicted for size
        yield* cache.get("b")
        yield* gates.succeed(2, "a2")

        expect(Exit.isSuccess(exitOf(refreshing))).toBe(true)
        expect(Option.isNone(yield* cache.getOption("a"))).toBe(true)
        expect(someValue(yield* cache.getOption("b"))).toBe("b1")
        expect(someValue(yield* cache.getOption("c"))).toBe("c1")
        expect((yield* cache.cacheStats).evictions.size).toBe(1)
      }))

    it.scoped("refresh - readers keep the old value until the new one is stored", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        yield* cache.set("k", "old")
        // What a reader sees the moment the refresh completes.
        const refreshing = yield* start(cache.refresh("k").pipe(Effect.map(() => cache.getOptionSync("k"))))

        const duringGet = yield* cache.get("k")
        const duringOption = yield* cache.getOption("k")
        const waitingBefore = isWaiting(refreshing)
        yield* gates.succeed(0, "new")

        expect(duringGet).toBe("old")
        expect(someValue(duringOption)).toBe("old")
        expect(waitingBefore).toBe(true)
        expect(someValue(valueOf(exitOf(refreshing)))).toBe("new")
        expect(yield* cache.get("k")).toBe("new")
        expect(gates.calls.length).toBe(1)
      }))

    it.scoped("refresh - a failed refresh keeps the old value, fails with the loader's error and is counted", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        yield* cache.set("k", "old")
        const error = new LoaderError({ reason: "origin down" })
        const refreshing = yield* start(cache.refresh("k"))

        yield* gates.open(0, Effect.fail(error))

        expect(errorOf(exitOf(refreshing))).toBe(error)
        expect(yield* cache.get("k")).toBe("old")
        const stats = yield* cache.cacheStats
        expect(stats.refreshFailures).toBe(1)
        expect(stats.loadFailures).toBe(1)
      }))

    it.scoped("refresh - a failed refresh over a kept failure replaces it, for the lifetime timeToLive gives", () =>
      Effect.gen(function*() {
        let calls = 0
        const reasonOf = (error: unknown) => (error as LoaderError).reason
        const cache = yield* ChronoCache.make({
          lookup: (key: string) => Effect.suspend(() => Effect.fail(new LoaderError({ reason: `${key} ${calls++}` }))),
          capacity: 10,
          timeToLive: (exit) => Exit.isSuccess(exit) ? Duration.infinity : Duration.seconds(30)
        })
        expect(reasonOf(yield* Effect.flip(cache.get("k")))).toBe("k 0")
        yield* TestClock.adjust("20 seconds")
        expect(reasonOf(yield* Effect.flip(cache.refresh("k")))).toBe("k 1")

        expect(reasonOf(yield* Effect.flip(cache.get("k")))).toBe("k 1") // the new failure, kept
        yield* TestClock.adjust("29 seconds") // 49 s: the old failure would be gone, the new one lives to 50 s
        expect(reasonOf(yield* Effect.flip(cache.get("k")))).toBe("k 1")
        yield* TestClock.adjust("1 second")
        expect(reasonOf(yield* Effect.flip(cache.get("k")))).toBe("k 2") // expired: loaded again
        const stats = yield* cache.cacheStats
        expect(stats.refreshFailures).toBe(1)
        expect(stats.loadFailures).toBe(3)
      }))

    it.scoped("refresh - a set made during a refresh wins over it", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        yield* cache.set("k", "old")
        const refreshing = yield* start(cache.refresh("k"))

        yield* cache.set("k", "set")
        yield* gates.succeed(0, "refreshed")

        expect(Exit.isSuccess(exitOf(refreshing))).toBe(true)
        expect(yield* cache.get("k")).toBe("set")
      }))

    it.scoped("refresh - an invalidate made during a refresh wins over it", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        yield* cache.set("k", "old")
        const refreshing = yield* start(cache.refresh("k"))

        yield* cache.invalidate("k")
        yield* gates.succeed(0, "refreshed")

        expect(Exit.isSuccess(exitOf(refreshing))).toBe(true)
        expect(Option.isNone(yield* cache.getOption("k"))).toBe(true)
        expect(yield* cache.size).toBe(0)
      }))

    it.scoped("refresh - interrupting a refresh never deletes the value, old or newer", () =>
      Effect.gen(function*() {
        for (const abandonedLoads of ["complete", "interrupt"] as const) {
          const gates = new Gates()
          const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, abandonedLoads })
          yield* cache.set("a", "old")
          yield* cache.set("b", "old")
          const refreshA = yield* start(cache.refresh("a"))
          const refreshB = yield* start(cache.refresh("b"))

          yield* cache.set("b", "newer")
          yield* Fiber.interrupt(refreshA)
          yield* Fiber.interrupt(refreshB)
          yield* settle()

          expect(yield* cache.get("a")).toBe("old")
          expect(yield* cache.get("b")).toBe("newer")
          expect(gates.calls.map((call) => call.interrupted)).toEqual(
            abandonedLoads === "interrupt" ? [true, true] : [false, false]
          )
          if (abandonedLoads === "complete") {
            yield* gates.succeed(0, "refreshed")
            yield* gates.succeed(1, "refreshed")
            expect(yield* cache.get("a")).toBe("refreshed")
            expect(yield* cache.get("b")).toBe("newer")
          }
        }
      }))

    it.scoped("refresh - on an absent key it loads like get, and gets join it", () =>
      Effect.gen(function*() {
        const gates = new Gates()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10 })
        const refreshing = yield* start(cache.refresh("k"))
        const reader = yield* start(cache.get("k"))

        yield* gates.succeed(0, "v")

        expect(Exit.isSuccess(exitOf(refreshing))).toBe(true)
        expect(valueOf(exitOf(reader))).toBe("v")
        expect(yield* cache.get("k")).toBe("v")
        expect(gates.calls.length).toBe(1)
      }))
  })

  describe("getPromise", () => {
    class Origin extends Context.Tag("test/PromiseOrigin")<Origin, string>() {}

    /** A cache in a scope of its own, for plain code; its lookup needs `Origin`. */
    const buildCache = async (abandonedLoads: "complete" | "interrupt" = "complete") => {
      const gates = new Gates()
      const scope = Effect.runSync(Scope.make())
      const cache = await Effect.runPromise(
        ChronoCache.make({
          lookup: (key: string) => Effect.zipWith(Origin, gates.lookup(key), (origin, value) => `${origin}:${value}`),
          capacity: 10,
          abandonedLoads
        }).pipe(
          Effect.provideService(Origin, "cache"),
          Effect.provide(Logger.remove(Logger.defaultLogger)),
          Scope.extend(scope)
        )
      )
      const close = () => Effect.runPromise(Scope.close(scope, Exit.void))
      return { cache, gates, close }
    }

    it("getPromise - runs on the cache's runtime when called from plain code", async () => {
      const { cache, close, gates } = await buildCache()

      const promise = cache.getPromise("k")
      await flush()
      await Effect.runPromise(gates.succeed(0, "v"))

      expect(await promise).toBe("cache:v")
      await close()
    })

    it("getPromise - a fired signal rejects only its own caller; the others get the value", async () => {
      const { cache, close, gates } = await buildCache()
      const controller = new AbortController()

      const aborted = settled(cache.getPromise("k", { signal: controller.signal }))
      const other = settled(cache.getPromise("k"))
      await flush()
      controller.abort(new Error("caller gave up"))
      const abortedAnswer = await aborted
      await Effect.runPromise(gates.succeed(0, "v"))

      expect(abortedAnswer.ok).toBe(false)
      expect(await other).toEqual({ ok: true, value: "cache:v" })
      expect(gates.calls.length).toBe(1)
      expect(gates.call(0).interrupted).toBe(false)
      await close()
    })

    it("getPromise - a fired signal rejects its caller with the signal's reason itself", async () => {
      const { cache, close } = await buildCache()
      const controller = new AbortController()
      const reason = new Error("caller gave up")

      const aborted = settled(cache.getPromise("k", { signal: controller.signal }))
      await flush()
      controller.abort(reason)
      const answer = await aborted
      await close()

      expect(answer.ok ? undefined : answer.error).toBe(reason)
    })

    it("getPromise - the last caller's signal abandons the load as an interrupted waiter would", async () => {
      const { cache, close, gates } = await buildCache("interrupt")
      const controller = new AbortController()

      const aborted = settled(cache.getPromise("k", { signal: controller.signal }))
      await flush()
      controller.abort("gone")
      const answer = await aborted
      await flush()

      expect(answer.ok).toBe(false)
      expect(gates.call(0).interrupted).toBe(true)
      expect(Effect.runSync(cache.contains("k"))).toBe(false)
      await close()
    })

    it("getPromise - an already aborted signal rejects at once and starts no load", async () => {
      const { cache, close, gates } = await buildCache()

      const answer = await settled(cache.getPromise("k", { signal: AbortSignal.abort("too late") }))

      expect(answer).toEqual({ ok: false, error: "too late" })
      expect(gates.calls.length).toBe(0)
      await close()
    })

    it("getPromise - rejects with the typed error itself and the defect itself", async () => {
      const { cache, close, gates } = await buildCache()
      const error = new LoaderError({ reason: "origin down" })
      const defect = new LoaderDefect("bug in the loader")

      const failed = settled(cache.getPromise("a"))
      const died = settled(cache.getPromise("b"))
      await flush()
      await Effect.runPromise(gates.open(0, Effect.fail(error)))
      await Effect.runPromise(gates.open(1, Effect.die(defect)))

      expect(await failed).toEqual({ ok: false, error })
      expect((await failed).ok ? undefined : ((await failed) as { error: unknown }).error).toBe(error)
      expect(((await died) as { error: unknown }).error).toBe(defect)
      await close()
    })
  })

  describe("logging", () => {
    it.scoped("logging - each failed load is logged once, at warning level, with the cache's name", () =>
      Effect.gen(function*() {
        for (const loadTimeout of [undefined, "1 minute"] as const) {
          const entries: Array<{ level: string; cache: unknown; key: unknown }> = []
          const capture = Logger.make(({ annotations, logLevel }) => {
            entries.push({
              level: logLevel.label,
              cache: Option.getOrUndefined(HashMap.get(annotations, "cache")),
              key: Option.getOrUndefined(HashMap.get(annotations, "key"))
            })
          })
          const gates = new Gates()
          const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 10, loadTimeout, name: "users" })
            .pipe(
              Effect.provide(Logger.replace(Logger.defaultLogger, capture))
            )
          const waiters = yield* Effect.forEach(
            ["fails", "dies", "interrupts", "succeeds"],
            (key) => start(cache.get(key))
          )

          yield* gates.open(0, Effect.fail(new LoaderError({ reason: "origin down" })))
          yield* gates.open(1, Effect.die(new LoaderDefect("bug")))
          yield* gates.open(2, Effect.interrupt)
          yield* gates.succeed(3, "v")

          expect(waiters.map((fiber) => Exit.isSuccess(exitOf(fiber)))).toEqual([false, false, false, true])
          const warnings = entries.filter((entry) => entry.level === "WARN")
          expect(warnings.map((entry) => entry.key)).toEqual(["fails", "dies", "interrupts"])
          expect(warnings.every((entry) => entry.cache === "users")).toBe(true)
        }
      }))
  })
})
