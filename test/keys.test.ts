/**
 * Keys follow `Equal.equals`: by value for primitives, by content for `Equal` values and for
 * `Date` and `URL`, by reference for other objects.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Equal, Option } from "effect"
import { ChronoCache } from "../src/index.js"

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
