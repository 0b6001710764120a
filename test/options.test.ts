/**
 * Option validation beyond the basics: the odd shapes a duration can take.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, TestClock } from "effect"
import { ChronoCache, InvalidOptionsError } from "../src/index.js"

const lookup = (key: string) => Effect.succeed(key)

describe("ChronoCache", () => {
  it.scoped("make - a duration tuple with NaN or a negative part fails with InvalidOptionsError", () =>
    Effect.gen(function*() {
      const nan = yield* Effect.exit(ChronoCache.make({ lookup, capacity: 1, timeToLive: [NaN, 0] }))
      const negative = yield* Effect.exit(ChronoCache.make({ lookup, capacity: 1, timeToIdle: [0, -5] }))

      for (const exit of [nan, negative]) {
        expect(Exit.isFailure(exit) && Exit.causeOption(exit)._tag === "Some").toBe(true)
        if (Exit.isFailure(exit)) {
          expect(exit.cause._tag === "Fail" && exit.cause.error).toBeInstanceOf(InvalidOptionsError)
        }
      }
    }))

  it.scoped("make - an infinite loadTimeout means no timeout", () =>
    Effect.gen(function*() {
      for (const loadTimeout of [Infinity, Duration.infinity]) {
        const cache = yield* ChronoCache.make({ lookup: () => Effect.never, capacity: 1, loadTimeout })
        const fiber = yield* Effect.fork(cache.get("k"))

        yield* TestClock.adjust("1 day")

        expect(fiber.unsafePoll()).toBeNull()
      }
    }))

  it.scoped("make - a zero loadTimeout fails with InvalidOptionsError", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(ChronoCache.make({ lookup, capacity: 1, loadTimeout: 0 }))

      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toBeInstanceOf(
        InvalidOptionsError
      )
    }))

  it.effect("make - option values whose inspection throws are refused with InvalidOptionsError", () =>
    Effect.gen(function*() {
      const { proxy, revoke } = Proxy.revocable([] as Array<number>, {})
      revoke()
      const throwingArray = new Proxy([1, 2] as Array<number>, {
        get() {
          throw new Error("no element")
        }
      })
      const throwingGetter = {
        lookup,
        get capacity(): number {
          throw new Error("no capacity")
        }
      }
      const attempts = [
        ChronoCache.make({ lookup, capacity: 1, timeToLive: proxy as never }),
        ChronoCache.make({ lookup, capacity: 1, timeToIdle: throwingArray as never }),
        ChronoCache.make({ lookup, capacity: 1, loadTimeout: proxy as never }),
        ChronoCache.make({ lookup, capacity: 1, sweepInterval: throwingArray as never }),
        ChronoCache.make(throwingGetter)
      ]
      for (const attempt of attempts) {
        const error = yield* Effect.flip(Effect.scoped(attempt))
        expect(error).toBeInstanceOf(InvalidOptionsError)
        expect(typeof error.message).toBe("string")
      }
    }))

  it.effect("CacheClosedError - its name is its class; the cache's name is in cacheName and the message", () =>
    Effect.gen(function*() {
      const cache = yield* Effect.scoped(ChronoCache.make({ lookup, capacity: 1, name: "users" }))
      const error = yield* Effect.flip(cache.get("k"))
      expect(error._tag).toBe("CacheClosedError")
      expect(error.name).toBe("CacheClosedError")
      expect(error._tag === "CacheClosedError" && error.cacheName).toBe("users")
      expect(String(error)).toMatch(/^CacheClosedError: The cache "users" is closed/)
    }))
})
