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
})
