/**
 * Keys follow `Equal.equals`: by value for primitives, by content for `Equal` values and for
 * `Date` and `URL`, by reference for other objects.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Equal, Exit, Fiber, Hash, Option, TestClock } from "effect"
import { CacheClosedError, ChronoCache, CircularLoadError, LoadTimeoutError } from "../src/index.js"
import { settle } from "./utils/scheduling.js"

const countingCache = <K>() =>
  Effect.gen(function*() {
    const calls: Array<K> = []
    const cache = yield* ChronoCache.make({
      lookup: (key: K) => Effect.sync(() => calls.push(key)),
      capacity: 10
    })
    return { cache, calls }
  })

describe("ChronoCache", () => {
  it.scoped("keys - two equal Dates share one entry, as Equal.equals says", () =>
    Effect.gen(function*() {
      const { cache, calls } = yield* countingCache<Date>()

      yield* cache.get(new Date(0))
      yield* cache.get(new Date(0))
      yield* cache.get(new Date(1))

      expect(Equal.equals(new Date(0), new Date(0))).toBe(true)
      expect(calls.length).toBe(2)
      expect(yield* cache.size).toBe(2)
    }))

  it.scoped("keys - two equal URLs share one entry, as Equal.equals says", () =>
    Effect.gen(function*() {
      const { cache, calls } = yield* countingCache<URL>()

      yield* cache.get(new URL("https://example.com/a"))
      yield* cache.get(new URL("https://example.com/a"))
      yield* cache.invalidate(new URL("https://example.com/a"))

      expect(calls.length).toBe(1)
      expect(yield* cache.size).toBe(0)
    }))

  it.scoped("keys - plain objects are compared by reference", () =>
    Effect.gen(function*() {
      const { cache, calls } = yield* countingCache<{ readonly id: number }>()
      const key = { id: 1 }

      yield* cache.get(key)
      yield* cache.get(key)
      yield* cache.get({ id: 1 })

      expect(calls.length).toBe(2)
    }))

  it.scoped("keys - NaN, -0, the empty string and undefined are keys like any other", () =>
    Effect.gen(function*() {
      const { cache, calls } = yield* countingCache<unknown>()

      for (const key of [NaN, NaN, -0, 0, "", "", undefined, undefined]) yield* cache.get(key)

      expect(calls.length).toBe(4)
      expect(Option.isSome(yield* cache.getOption(""))).toBe(true)
    }))
})

/** Keys that `String()` cannot turn into text: no prototype, or a throwing `toString`. */
const unprintable = (): Array<object> => {
  const throwing = {
    toString() {
      throw new Error("no text")
    },
    toJSON() {
      throw new Error("no JSON")
    }
  }
  return [Object.create(null) as object, throwing]
}

describe("ChronoCache - keys without a string form", () => {
  it.scoped("unprintable keys - a failure after a suspension reaches every waiter, and the key loads again", () =>
    Effect.gen(function*() {
      for (const key of unprintable()) {
        let calls = 0
        const cache = yield* ChronoCache.make({
          lookup: (_: object) =>
            Effect.sleep("10 millis").pipe(Effect.zipRight(Effect.suspend(() => Effect.fail(`down ${++calls}`)))),
          capacity: 10,
          loadTimeout: "1 second"
        })
        const first = yield* Effect.fork(Effect.flip(cache.get(key)))
        const second = yield* Effect.fork(Effect.flip(cache.get(key)))
        yield* TestClock.adjust("10 millis")
        expect(yield* Fiber.join(first)).toBe("down 1")
        expect(yield* Fiber.join(second)).toBe("down 1")
        expect((yield* cache.cacheStats).pendingLoads).toBe(0)
        expect(yield* cache.contains(key)).toBe(false)

        const again = yield* Effect.fork(Effect.flip(cache.get(key)))
        yield* TestClock.adjust("10 millis")
        expect(yield* Fiber.join(again)).toBe("down 2")
      }
    }))

  it.scoped("unprintable keys - a timeout, a throwing timeToLive and a self-interruption all answer", () =>
    Effect.gen(function*() {
      for (const key of unprintable()) {
        const slow = yield* ChronoCache.make({
          lookup: (_: object) => Effect.never,
          capacity: 10,
          loadTimeout: "1 second"
        })
        const timedOut = yield* Effect.fork(Effect.flip(slow.get(key)))
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(timedOut)
        expect(error._tag).toBe("LoadTimeoutError")
        expect(error.message).toContain("took longer than 1000 ms")

        const ttlThrows = yield* ChronoCache.make({
          lookup: (_: object) => Effect.succeed(1),
          capacity: 10,
          timeToLive: () => {
            throw new Error("no lifetime")
          }
        })
        expect(yield* ttlThrows.get(key)).toBe(1) // answered, not kept
        expect(yield* ttlThrows.contains(key)).toBe(false)

        const selfInterrupting = yield* ChronoCache.make({
          lookup: (_: object) => Effect.zipRight(Effect.sleep("1 milli"), Effect.interrupt),
          capacity: 10
        })
        const interrupted = yield* Effect.fork(Effect.exit(selfInterrupting.get(key)))
        yield* TestClock.adjust("1 milli")
        const exit = yield* Fiber.join(interrupted)
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect((yield* selfInterrupting.cacheStats).pendingLoads).toBe(0)

        const weak = yield* ChronoCache.make({
          lookup: (_: object) => Effect.zipRight(Effect.sleep("1 milli"), Effect.succeed(42 as unknown as object)),
          capacity: 10,
          weakValues: true
        })
        const refused = yield* Effect.fork(Effect.flip(weak.get(key)))
        yield* TestClock.adjust("1 milli")
        expect((yield* Fiber.join(refused))._tag).toBe("InvalidOptionsError")
      }
    }))

  it.effect("unprintable option values are refused with InvalidOptionsError", () =>
    Effect.gen(function*() {
      for (const capacity of unprintable()) {
        const error = yield* Effect.flip(
          Effect.scoped(ChronoCache.make({ lookup: (k: string) => Effect.succeed(k), capacity: capacity as never }))
        )
        expect(error._tag).toBe("InvalidOptionsError")
        expect(error.message).toContain("capacity")
      }
    }))

  it.scoped("keys whose Hash is not a number (a bigint, a symbol) are found again, and never throw", () =>
    Effect.gen(function*() {
      class OddHash implements Equal.Equal {
        constructor(readonly id: number, readonly hash: unknown) {}
        [Equal.symbol](that: unknown) {
          return that instanceof OddHash && that.id === this.id
        }
        [Hash.symbol]() {
          return this.hash as number
        }
      }
      const { cache, calls } = yield* countingCache<OddHash>()
      const keys = [new OddHash(1, 10n), new OddHash(2, Symbol("h")), new OddHash(3, 10n)]
      for (const key of keys) yield* cache.get(key)
      for (const key of keys) yield* cache.get(new OddHash(key.id, key.hash))
      expect(calls.length).toBe(3)
      expect(Option.isSome(cache.getOptionSync(new OddHash(2, keys[1]!.hash)))).toBe(true)
      expect(yield* Effect.promise(() => cache.getPromise(new OddHash(3, 10n)))).toBe(3)
    }))

  it.scoped("getPromise rejects, and does not throw, when a key's own Equal throws", () =>
    Effect.gen(function*() {
      class Broken implements Equal.Equal {
        [Equal.symbol](): boolean {
          throw new Error("broken Equal")
        }
        [Hash.symbol]() {
          return 1
        }
      }
      const { cache } = yield* countingCache<Broken>()
      yield* cache.set(new Broken(), 1)
      let promise: Promise<number> | undefined
      expect(() => {
        promise = cache.getPromise(new Broken())
      }).not.toThrow()
      const outcome = yield* Effect.promise(() => promise!.then(() => "resolved", (e: Error) => e.message))
      expect(outcome).toBe("broken Equal")
    }))
})

describe("ChronoCache - keys whose own code throws once stored", () => {
  it.scoped("a revoked Proxy key: its load still answers, and the cache goes on for other keys", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const cache = yield* ChronoCache.make({
        lookup: (key: object | string) => Effect.as(Deferred.await(gate), typeof key === "string" ? key : "proxied"),
        capacity: 1
      })
      const { proxy, revoke } = Proxy.revocable({}, {})
      const waiter = yield* Effect.fork(cache.get(proxy))
      yield* settle()
      revoke() // from now on, any look into the key throws
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(waiter)).toBe("proxied") // answered; stored by slot
      expect((yield* cache.cacheStats).pendingLoads).toBe(0)

      // Another key evicts it (capacity 1): taken out by slot, without looking into it.
      expect(yield* cache.get("other")).toBe("other")
      expect(yield* cache.size).toBe(1)
      expect(yield* cache.get("third")).toBe("third")
    }))

  it.scoped("a structural key whose Hash starts throwing after its load began: the load answers, eviction takes it", () =>
    Effect.gen(function*() {
      let broken = false
      class Fickle implements Equal.Equal {
        [Equal.symbol](that: unknown) {
          return that === this
        }
        [Hash.symbol](): number {
          if (broken) throw new Error("hash gone")
          return 7
        }
      }
      const gate = yield* Deferred.make<void>()
      const cache = yield* ChronoCache.make({
        lookup: (_: Fickle | string) => Effect.as(Deferred.await(gate), 1),
        capacity: 1
      })
      const key = new Fickle()
      const waiter = yield* Effect.fork(cache.get(key))
      yield* settle()
      broken = true
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(waiter)).toBe(1)
      yield* cache.set("other", 2) // evicts `key`, by slot, its Hash still broken
      expect(yield* cache.size).toBe(1)
      expect(yield* cache.get("other")).toBe(2)
    }))

  it.scoped("a revoked Proxy key under a time limit: the sweeper goes on reclaiming other entries", () =>
    Effect.gen(function*() {
      const cache = yield* ChronoCache.make({
        lookup: (_: object) => Effect.succeed({}),
        capacity: 10,
        timeToLive: "1 second",
        sweepInterval: "1 second"
      })
      const { proxy, revoke } = Proxy.revocable({}, {})
      yield* cache.set(proxy, {})
      revoke()
      yield* TestClock.adjust("2 seconds") // the sweeper takes the proxy's entry out by slot
      let value: object | undefined = {}
      const ref = new WeakRef(value)
      yield* cache.set({}, value)
      value = undefined
      yield* TestClock.adjust("2 seconds")
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      ;(globalThis as { gc?: () => void }).gc?.()
      expect(ref.deref()).toBeUndefined() // reclaimed without any read
    }))

  it.effect("error messages are cut to a readable length for huge keys and option values", () =>
    Effect.gen(function*() {
      const huge = "k".repeat(1_000_000)
      const timeout = new LoadTimeoutError({ key: huge, timeoutMillis: 1000 })
      expect(timeout.message.length).toBeLessThan(400)
      expect(timeout.message).toContain("more characters")
      const invalid = yield* Effect.flip(
        Effect.scoped(ChronoCache.make({ lookup: (k: string) => Effect.succeed(k), capacity: huge as never }))
      )
      expect(invalid.message.length).toBeLessThan(400)

      const cycle = new CircularLoadError({ keys: Array.from({ length: 2_000 }, (_, i) => `${"x".repeat(190)}-${i}`) })
      expect(cycle.message.length).toBeLessThan(3_000)
      expect(cycle.message).toContain("1992 more keys")
      const short = new CircularLoadError({ keys: ["a", "b"] })
      expect(short.message).toContain("\"a\" -> \"b\" -> \"a\"")
      const closed = new CacheClosedError({ cacheName: "n".repeat(100_000) })
      expect(closed.message.length).toBeLessThan(400)
    }))
})
