/**
 * Entry storage: slots freed and reused while loads are in flight, structural keys and their
 * hashes, the time columns and the expiry heap over reused slots, capacity edges, and what
 * each read API answers for each state of an entry. Gates are `Deferred`s; time is
 * `TestClock`.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Data,
  Deferred,
  Duration,
  Effect,
  Equal,
  Exit,
  Fiber,
  FiberId,
  Hash,
  Option,
  Scope,
  TestClock,
  TestContext
} from "effect"
import fc from "fast-check"
import { isDeepStrictEqual } from "node:util"
import { CacheClosedError, ChronoCache, LoadPendingError } from "../src/index.js"
import { settle } from "./utils/scheduling.js"

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

/** A lookup whose n-th call (0-based) waits on gate n, then runs what the test gives it. */
class Gates<K> {
  readonly calls: Array<{ key: K; gate: Deferred.Deferred<Effect.Effect<string, Boom>> }> = []
  readonly lookup = (key: K): Effect.Effect<string, Boom> =>
    Effect.suspend(() => {
      const gate = Deferred.unsafeMake<Effect.Effect<string, Boom>>(FiberId.none)
      this.calls.push({ key, gate })
      return Effect.flatten(Deferred.await(gate))
    })
  open(n: number, effect: Effect.Effect<string, Boom>) {
    return Effect.zipRight(Deferred.succeed(this.calls[n]!.gate, effect), settle())
  }
}

const start = <A, E>(effect: Effect.Effect<A, E>) => Effect.tap(Effect.fork(effect), () => settle())
const exitOf = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) => {
  const exit = fiber.unsafePoll()
  if (exit === null) throw new Error("fiber still running")
  return exit
}
const some = <A>(o: Option.Option<A>) => (Option.isSome(o) ? o.value : "NONE")

/** A key whose hash the test chooses. */
class CK implements Equal.Equal {
  constructor(readonly id: number, readonly h: number) {}
  [Equal.symbol](that: unknown) {
    return that instanceof CK && that.id === this.id
  }
  [Hash.symbol]() {
    return this.h
  }
  toString() {
    return `CK(${this.id})`
  }
}

describe("ChronoCache - storage", () => {
  // ---------------------------------------------------------------------------------------
  // Keys
  it.scoped("keys - an Equal key whose hash is not a 32-bit integer is found again (loaded once)", () =>
    Effect.gen(function*() {
      let loads = 0
      const cache = yield* ChronoCache.make({
        lookup: (k: CK) => Effect.sync(() => `v${k.id}#${++loads}`),
        capacity: 10
      })
      const id = 1_700_000_000_123 // e.g. a hash that returns a millisecond timestamp id
      const a = yield* cache.get(new CK(1, id))
      const b = yield* cache.get(new CK(1, id))
      const frac = yield* cache.get(new CK(2, 0.5))
      const frac2 = yield* cache.get(new CK(2, 0.5))
      expect({ a, b, frac, frac2, loads, size: yield* cache.size }).toEqual({
        a: "v1#1",
        b: "v1#1",
        frac: "v2#2",
        frac2: "v2#2",
        loads: 2,
        size: 2
      })
    }))

  it.scoped("keys - colliding structural keys (hash 0 and others) survive invalidate and slot reuse", () =>
    Effect.gen(function*() {
      const cache = yield* ChronoCache.make({ lookup: (k: CK) => Effect.succeed(`L${k.id}`), capacity: 3 })
      const k = (id: number) => new CK(id, 0)
      yield* cache.set(k(1), "a")
      yield* cache.set(k(2), "b")
      yield* cache.set(k(3), "c")
      yield* cache.invalidate(k(2))
      yield* cache.set(k(4), "d") // takes k(2)'s slot, same bucket
      yield* cache.invalidate(k(1))
      yield* cache.set(new CK(5, 7), "e")
      expect(some(yield* cache.getOption(k(3)))).toBe("c")
      expect(some(yield* cache.getOption(k(4)))).toBe("d")
      expect(some(yield* cache.getOption(new CK(5, 7)))).toBe("e")
      expect(Option.isNone(yield* cache.getOption(k(1)))).toBe(true)
      expect(Option.isNone(yield* cache.getOption(k(2)))).toBe(true)
      yield* cache.set(k(6), "f") // evicts the LRU: k(3)
      expect(yield* cache.contains(k(3))).toBe(false)
      expect(yield* cache.size).toBe(3)
    }))

  // ---------------------------------------------------------------------------------------
  // Slot reuse
  it.scoped("reuse - loads that end after invalidateAll never touch the new keys that took their slots", () =>
    Effect.gen(function*() {
      const gates = new Gates<string>()
      const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 4 })
      const a = yield* start(cache.get("a"))
      const b = yield* start(cache.get("b"))
      yield* cache.invalidateAll
      const c = yield* start(cache.get("c"))
      const d = yield* start(cache.get("d"))
      yield* gates.open(0, Effect.fail(new Boom({ n: 0 })))
      yield* gates.open(1, Effect.succeed("stale b"))
      expect(yield* cache.contains("c")).toBe(true)
      expect(yield* cache.contains("d")).toBe(true)
      expect(yield* cache.contains("b")).toBe(false)
      yield* gates.open(2, Effect.succeed("c value"))
      yield* gates.open(3, Effect.succeed("d value"))
      expect(Exit.isFailure(exitOf(a))).toBe(true)
      expect(exitOf(b)).toEqual(Exit.succeed("stale b"))
      expect(exitOf(c)).toEqual(Exit.succeed("c value"))
      expect(exitOf(d)).toEqual(Exit.succeed("d value"))
      expect(some(yield* cache.getOption("c"))).toBe("c value")
      expect(some(yield* cache.getOption("d"))).toBe("d value")
      expect(yield* cache.size).toBe(2)
    }))

  it.scoped("reuse - an abandoned load after invalidateAll does not remove the pending entry in its old slot", () =>
    Effect.gen(function*() {
      const gates = new Gates<string>()
      const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 4, abandonedLoads: "interrupt" })
      const a = yield* start(cache.get("a"))
      yield* cache.invalidateAll
      const c = yield* start(cache.get("c")) // slot 0 again
      yield* Fiber.interrupt(a)
      yield* settle()
      expect(yield* cache.contains("c")).toBe(true)
      const c2 = yield* start(cache.get("c"))
      expect(gates.calls.length).toBe(2) // c2 joined, no third load
      yield* gates.open(1, Effect.succeed("c value"))
      expect(exitOf(c)).toEqual(Exit.succeed("c value"))
      expect(exitOf(c2)).toEqual(Exit.succeed("c value"))
      expect(some(yield* cache.getOption("c"))).toBe("c value")
    }))

  it.scoped("reuse - a refresh whose entry was evicted never writes into the key that took its slot", () =>
    Effect.gen(function*() {
      for (const outcome of ["success", "failure"] as const) {
        const gates = new Gates<string>()
        const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 1 })
        const first = yield* start(cache.get("r"))
        yield* gates.open(0, Effect.succeed("r1"))
        expect(exitOf(first)).toEqual(Exit.succeed("r1"))
        const refresh = yield* start(cache.refresh("r"))
        yield* cache.set("x", "x value") // evicts r (exact LRU), x reuses r's slot
        const y = yield* start(cache.get("r")) // a new first load of r
        yield* gates.open(1, outcome === "success" ? Effect.succeed("r2") : Effect.fail(new Boom({ n: 1 })))
        expect(exitOf(refresh)._tag).toBe(outcome === "success" ? "Success" : "Failure")
        expect(yield* cache.contains("r")).toBe(true) // y's load still pending
        expect(some(yield* cache.getOption("x"))).toBe("x value")
        yield* gates.open(2, Effect.succeed("r3"))
        expect(exitOf(y)).toEqual(Exit.succeed("r3"))
        expect(some(yield* cache.getOption("r"))).toBe("r3")
        expect(yield* cache.size).toBe(1)
      }
    }))

  it.scoped("reuse - many concurrent pending loads past capacity grow the columns; all answered, exact LRU after", () =>
    Effect.gen(function*() {
      const gates = new Gates<number>()
      const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 2 })
      const n = 100
      const fibers: Array<Fiber.RuntimeFiber<string, unknown>> = []
      for (let i = 0; i < n; i++) fibers.push(yield* Effect.fork(cache.get(i)))
      yield* settle()
      expect(gates.calls.length).toBe(n)
      const order = Array.from({ length: n }, (_, i) => (i * 37) % n)
      for (const i of order) yield* Deferred.succeed(gates.calls[i]!.gate, Effect.succeed(`v${gates.calls[i]!.key}`))
      yield* settle()
      for (let i = 0; i < n; i++) expect(exitOf(fibers[i]!)).toEqual(Exit.succeed(`v${i}`))
      expect(yield* cache.size).toBe(2)
      const last2 = order.slice(-2).map((i) => gates.calls[i]!.key)
      for (let i = 0; i < n; i++) expect(yield* cache.contains(i)).toBe(last2.includes(i))
      // The freed slots are reused correctly.
      for (let i = 200; i < 260; i++) yield* cache.set(i, `s${i}`)
      expect(yield* cache.size).toBe(2)
      expect(some(yield* cache.getOption(258))).toBe("s258")
      expect(some(yield* cache.getOption(259))).toBe("s259")
      expect((yield* cache.cacheStats).pendingLoads).toBe(0)
    }))

  it.effect("reuse - close after invalidateAll answers every load in flight, old and new", () =>
    Effect.gen(function*() {
      const gates = new Gates<string>()
      const scope = yield* Scope.make()
      const cache = yield* Scope.extend(ChronoCache.make({ lookup: gates.lookup, capacity: 2 }), scope)
      const a1 = yield* start(cache.get("a"))
      yield* cache.invalidateAll
      const a2 = yield* start(cache.get("a"))
      let promised: unknown = "waiting"
      cache.getPromise("a").then((v) => (promised = v), (e) => (promised = e))
      yield* Scope.close(scope, Exit.void)
      yield* settle()
      yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
      for (const f of [a1, a2]) {
        const exit = exitOf(f)
        expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toBeInstanceOf(CacheClosedError)
      }
      expect(promised).toBeInstanceOf(CacheClosedError)
    }))

  // ---------------------------------------------------------------------------------------
  // Kept Options of getOptionSync (held in the key index in place of the slot number)
  it.scoped("kept options - the Option a hit returns is an Option in every respect", () =>
    Effect.gen(function*() {
      const cache = yield* ChronoCache.make({ lookup: (k: string) => Effect.succeed({ n: k.length }), capacity: 4 })
      yield* cache.get("abc")
      const first = cache.getOptionSync("abc")
      const kept = cache.getOptionSync("abc")
      expect(kept).toBe(first) // kept, not made again
      expect(Option.isOption(kept)).toBe(true)
      expect(Option.isSome(kept)).toBe(true)
      expect(kept._tag).toBe("Some")
      expect(Equal.equals(kept, Option.some(Option.getOrThrow(kept)))).toBe(true)
      expect(Hash.hash(kept)).toBe(Hash.hash(Option.some(Option.getOrThrow(kept))))
      expect(kept).toEqual(Option.some({ n: 3 }))
      expect(kept).toStrictEqual(Option.some({ n: 3 }))
      expect(isDeepStrictEqual(kept, Option.some({ n: 3 }))).toBe(true)
      expect(Object.getPrototypeOf(kept)).toBe(Object.getPrototypeOf(Option.some(0)))
      expect(Object.keys(kept)).toEqual(["value"])
      expect({ ...kept }).toEqual({ value: { n: 3 } })
      expect(JSON.stringify(kept)).toBe(JSON.stringify(Option.some({ n: 3 })))
      expect(String(kept)).toBe(String(Option.some({ n: 3 })))
      expect(Option.map(kept, (v) => v.n + 1)).toEqual(Option.some(4))
      expect(yield* kept).toEqual({ n: 3 }) // an Option is an Effect too
    }))

  it.scoped("kept options - never outlive their entry: eviction, slot reuse, invalidate, refresh, set", () =>
    Effect.gen(function*() {
      let loads = 0
      const cache = yield* ChronoCache.make({
        lookup: (k: string) => Effect.sync(() => `${k}#${++loads}`),
        capacity: 2
      })
      yield* cache.get("a")
      yield* cache.get("b")
      const a1 = cache.getOptionSync("a") // kept for a
      const b1 = cache.getOptionSync("b") // kept for b; a is now the least recent
      expect([some(a1), some(b1)]).toEqual(["a#1", "b#2"])
      yield* cache.get("c") // evicts a; c takes a's freed slot
      expect(Option.isNone(cache.getOptionSync("a"))).toBe(true)
      expect(some(cache.getOptionSync("c"))).toBe("c#3")
      yield* cache.get("a") // back, in a reused slot
      const a2 = cache.getOptionSync("a")
      expect(some(a2)).toBe("a#4")
      expect(a2).not.toBe(a1)

      yield* cache.invalidate("a")
      expect(Option.isNone(cache.getOptionSync("a"))).toBe(true)
      yield* cache.get("a")
      expect(some(cache.getOptionSync("a"))).toBe("a#5")

      const before = cache.getOptionSync("a")
      yield* cache.refresh("a")
      const refreshed = cache.getOptionSync("a")
      expect(some(refreshed)).toBe("a#6")
      expect(refreshed).not.toBe(before)

      yield* cache.set("a", "set")
      expect(some(cache.getOptionSync("a"))).toBe("set")
      yield* cache.invalidateAll
      expect(Option.isNone(cache.getOptionSync("a"))).toBe(true)
      yield* cache.get("a")
      expect(some(cache.getOptionSync("a"))).toBe("a#7")
    }))

  it.scoped("kept options - colliding structural keys each keep their own, and lose it on change", () =>
    Effect.gen(function*() {
      const cache = yield* ChronoCache.make({ lookup: (k: CK) => Effect.succeed(`v${k.id}`), capacity: 3 })
      const keys = [new CK(1, 7), new CK(2, 7), new CK(3, 7)] // one bucket
      for (const k of keys) yield* cache.get(k)
      const kept = keys.map((k) => cache.getOptionSync(new CK(k.id, 7)))
      expect(kept.map(some)).toEqual(["v1", "v2", "v3"])
      keys.forEach((k, i) => expect(cache.getOptionSync(k)).toBe(kept[i]))
      yield* cache.set(new CK(2, 7), "two")
      expect(some(cache.getOptionSync(keys[1]!))).toBe("two")
      expect(cache.getOptionSync(keys[0]!)).toBe(kept[0])
      expect(cache.getOptionSync(keys[2]!)).toBe(kept[2])
      yield* cache.get(new CK(4, 7)) // evicts the least recent: CK(2), set before the last two reads
      expect(Option.isNone(cache.getOptionSync(keys[1]!))).toBe(true)
      expect(some(cache.getOptionSync(new CK(4, 7)))).toBe("v4")
      expect(yield* cache.size).toBe(3)
    }))

  it.scoped("kept options - an entry past its time is None, though its Option was kept", () =>
    Effect.gen(function*() {
      const cache = yield* ChronoCache.make({
        lookup: (k: string) => Effect.succeed(k),
        capacity: 4,
        timeToLive: () => Duration.seconds(10)
      })
      yield* cache.get("k")
      const kept = cache.getOptionSync("k")
      yield* TestClock.adjust("9 seconds")
      expect(cache.getOptionSync("k")).toBe(kept)
      yield* TestClock.adjust("1 second")
      expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
      yield* cache.get("k")
      expect(cache.getOptionSync("k")).not.toBe(kept)
    }))

  it.scoped("kept options - weak values get a new Option per read (a kept one would pin the value)", () =>
    Effect.gen(function*() {
      const value = { v: 1 }
      const cache = yield* ChronoCache.make({ lookup: () => Effect.succeed(value), capacity: 4, weakValues: true })
      yield* cache.get("k")
      const first = cache.getOptionSync("k")
      const second = cache.getOptionSync("k")
      expect(Option.getOrThrow(first)).toBe(value)
      expect(second).not.toBe(first)
    }))

  // ---------------------------------------------------------------------------------------
  // Timed
  it.scoped("timed - a refresh of an idle-expired entry (not yet swept) stores a fresh value", () =>
    Effect.gen(function*() {
      let loads = 0
      const cache = yield* ChronoCache.make({
        lookup: (k: string) => Effect.sync(() => `${k}#${++loads}`),
        capacity: 10,
        timeToIdle: "10 seconds",
        sweepInterval: "1 hour"
      })
      yield* cache.get("k")
      yield* TestClock.adjust("10 seconds")
      yield* cache.refresh("k") // completes when the new value is stored
      const after = yield* cache.getOption("k")
      const got = yield* cache.get("k")
      expect({ after: some(after), got, loads }).toEqual({ after: "k#2", got: "k#2", loads: 2 })
    }))

  it.scoped("timed - an expired entry is not kept while a live one is evicted for size", () =>
    Effect.gen(function*() {
      const cache = yield* ChronoCache.make({
        lookup: (k: string) => Effect.succeed(k),
        capacity: 2,
        timeToLive: "10 seconds",
        sweepInterval: "1 hour"
      })
      yield* cache.set("a", "a") // t=0, expires at 10
      yield* TestClock.adjust("5 seconds")
      yield* cache.set("b", "b") // t=5, expires at 15
      yield* TestClock.adjust("1 second")
      yield* cache.getOption("a") // a most recently used
      yield* TestClock.adjust("4 seconds") // t=10: a expired, b live
      yield* cache.set("c", "c")
      expect(some(yield* cache.getOption("b"))).toBe("b")
      expect(some(yield* cache.getOption("c"))).toBe("c")
    }))

  it.scoped("timed - heap order holds with reused slots and per-key lifetimes", () =>
    Effect.gen(function*() {
      const ttl: Record<string, number> = { a: 100, b: 10, c: 50, d: 30, e: 70 }
      const cache = yield* ChronoCache.make({
        lookup: (k: string) => Effect.succeed(k),
        capacity: 3,
        timeToLive: (_exit, k: string) => ttl[k]!,
        sweepInterval: 1
      })
      yield* cache.set("a", "a")
      yield* cache.set("b", "b")
      yield* cache.invalidate("a")
      yield* cache.set("c", "c") // reuses a's slot
      yield* cache.invalidate("b")
      yield* cache.set("d", "d") // reuses b's slot
      yield* cache.set("e", "e")
      const alive = () => Effect.forEach(["a", "b", "c", "d", "e"], (k) => cache.contains(k))
      yield* TestClock.adjust(29)
      expect(yield* alive()).toEqual([false, false, true, true, true])
      yield* TestClock.adjust(1)
      expect(yield* alive()).toEqual([false, false, true, false, true])
      yield* TestClock.adjust(20)
      expect(yield* alive()).toEqual([false, false, false, false, true])
      yield* TestClock.adjust(20)
      expect(yield* alive()).toEqual([false, false, false, false, false])
      expect((yield* cache.cacheStats).evictions.expired).toBe(3)
    }))

  // ---------------------------------------------------------------------------------------
  // Capacity edges
  it.scoped("capacity 0 - getSync of a non-suspending loader returns the value and keeps nothing", () =>
    Effect.gen(function*() {
      let loads = 0
      const cache = yield* ChronoCache.make({
        lookup: (k: string) => Effect.sync(() => `${k}#${++loads}`),
        capacity: 0
      })
      expect(cache.getSync("k")).toBe("k#1")
      expect(cache.getSync("k")).toBe("k#2")
      yield* cache.set("k", "set")
      expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
      expect(yield* cache.size).toBe(0)
      const kept = yield* ChronoCache.make({
        lookup: (_: string) => Effect.fail(new Boom({ n: 0 })),
        capacity: 0,
        timeToLive: () => "1 minute"
      })
      yield* Effect.exit(kept.get("k"))
      expect(yield* kept.size).toBe(0)
    }))

  it.scoped("capacity 1 - a refresh over the only entry keeps it; a get of another key evicts it", () =>
    Effect.gen(function*() {
      const gates = new Gates<string>()
      const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 1 })
      const a = yield* start(cache.get("a"))
      yield* gates.open(0, Effect.succeed("a1"))
      const r = yield* start(cache.refresh("a"))
      expect(some(yield* cache.getOption("a"))).toBe("a1")
      yield* gates.open(1, Effect.succeed("a2"))
      expect(exitOf(r)._tag).toBe("Success")
      expect(exitOf(a)).toEqual(Exit.succeed("a1"))
      expect(some(yield* cache.getOption("a"))).toBe("a2")
      const b = yield* start(cache.get("b"))
      yield* gates.open(2, Effect.succeed("b1"))
      expect(exitOf(b)).toEqual(Exit.succeed("b1"))
      expect(yield* cache.contains("a")).toBe(false)
      expect(yield* cache.size).toBe(1)
    }))

  // ---------------------------------------------------------------------------------------
  // The read APIs on each state
  it.scoped("states - pending: getOptionSync None, getSyncExit LoadPendingError, get/getPromise wait for the value", () =>
    Effect.gen(function*() {
      const gates = new Gates<string>()
      const cache = yield* ChronoCache.make({ lookup: gates.lookup, capacity: 2 })
      const g = yield* start(cache.get("k"))
      expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
      const sync = cache.getSyncExit("k")
      expect(Exit.isFailure(sync) && Cause.squash(sync.cause)).toBeInstanceOf(LoadPendingError)
      expect(() => cache.getSync("k")).toThrow(LoadPendingError)
      const p = cache.getPromise("k")
      expect(gates.calls.length).toBe(1)
      yield* gates.open(0, Effect.succeed("v"))
      expect(exitOf(g)).toEqual(Exit.succeed("v"))
      expect(yield* Effect.promise(() => p)).toBe("v")
      expect(cache.getSync("k")).toBe("v")
    }))

  it.scoped("states - kept failure: None for options, the error itself for get, getSync and getPromise", () =>
    Effect.gen(function*() {
      let loads = 0
      const cache = yield* ChronoCache.make({
        lookup: (_: string) => Effect.suspend(() => Effect.fail(new Boom({ n: ++loads }))),
        capacity: 2,
        timeToLive: (exit) => (Exit.isFailure(exit) ? "1 minute" : "1 hour")
      })
      yield* Effect.exit(cache.get("k"))
      expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
      expect(Option.isNone(yield* cache.getOption("k"))).toBe(true)
      expect(yield* cache.contains("k")).toBe(true)
      const e = yield* Effect.flip(cache.get("k"))
      expect(e).toEqual(new Boom({ n: 1 }))
      expect(() => cache.getSync("k")).toThrow(Boom)
      const rejected = yield* Effect.promise(() => cache.getPromise("k").then(() => "resolved", (x) => x))
      expect(rejected).toBeInstanceOf(Boom)
      expect(loads).toBe(1)
      expect(yield* cache.size).toBe(1)
      yield* TestClock.adjust("1 minute")
      expect(yield* cache.contains("k")).toBe(false)
    }))

  it.scoped("states - expired: every read misses; get loads again, getSync loads a non-suspending lookup", () =>
    Effect.gen(function*() {
      let loads = 0
      const cache = yield* ChronoCache.make({
        lookup: (k: string) => Effect.sync(() => `${k}#${++loads}`),
        capacity: 2,
        timeToLive: "1 minute",
        sweepInterval: "1 hour"
      })
      yield* cache.get("k")
      yield* TestClock.adjust("1 minute")
      expect(Option.isNone(cache.getOptionSync("k"))).toBe(true)
      expect(yield* cache.contains("k")).toBe(false)
      expect(cache.getSync("k")).toBe("k#2")
      yield* TestClock.adjust("1 minute")
      expect(yield* cache.get("k")).toBe("k#3")
      yield* TestClock.adjust("1 minute")
      expect(yield* Effect.promise(() => cache.getPromise("k"))).toBe("k#4")
      expect((yield* cache.cacheStats).evictions.expired).toBe(3)
    }))
})

// -----------------------------------------------------------------------------------------
// A model check: structural colliding keys, per-key lifetimes, idle time, capacity 0..3.

type Key = CK | number
const universe: Array<Key> = [0, 1, 2, ...[0, 1, 2, 3, 4, 5].map((id) => new CK(id, id % 3))]
const nameOf = (k: Key) => (typeof k === "number" ? `n${k}` : `c${k.id}`)
const ttlByName: Record<string, number> = { n0: 5, n1: 1e9, n2: 12, c0: 30, c1: 7, c2: 1e9, c3: 18, c4: 3, c5: 25 }

type Op =
  | { t: "set"; k: number }
  | { t: "get"; k: number }
  | { t: "opt"; k: number }
  | { t: "inv"; k: number }
  | { t: "invAll" }
  | { t: "adj"; ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: universe.length - 1 }).map((k): Op => ({ t: "set", k })) },
  { weight: 5, arbitrary: fc.nat({ max: universe.length - 1 }).map((k): Op => ({ t: "get", k })) },
  { weight: 3, arbitrary: fc.nat({ max: universe.length - 1 }).map((k): Op => ({ t: "opt", k })) },
  { weight: 2, arbitrary: fc.nat({ max: universe.length - 1 }).map((k): Op => ({ t: "inv", k })) },
  { weight: 1, arbitrary: fc.constant<Op>({ t: "invAll" }) },
  { weight: 3, arbitrary: fc.constantFrom(1, 2, 4, 9).map((ms): Op => ({ t: "adj", ms })) }
)

interface ModelEntry {
  value: string
  expiresAt: number
  lastAccess: number
}

const runProgram = (capacity: number, tti: number | undefined, ops: ReadonlyArray<Op>) =>
  Effect.gen(function*() {
    let n = 0
    const cache = yield* ChronoCache.make({
      lookup: (k: Key) => Effect.sync(() => `L${nameOf(k)}#${n++}`),
      capacity,
      timeToLive: (_exit, k: Key) => ttlByName[nameOf(k)]!,
      ...(tti === undefined ? {} : { timeToIdle: tti }),
      sweepInterval: 1
    })
    let now = 0
    const entries = new Map<string, ModelEntry>()
    const order: Array<string> = [] // LRU first
    const touch = (name: string) => {
      const at = order.indexOf(name)
      if (at >= 0) order.splice(at, 1)
      order.push(name)
    }
    const drop = (name: string) => {
      entries.delete(name)
      const at = order.indexOf(name)
      if (at >= 0) order.splice(at, 1)
    }
    const store = (name: string, value: string) => {
      entries.set(name, { value, expiresAt: now + ttlByName[name]!, lastAccess: now })
      touch(name)
      while (order.length > capacity) drop(order[0]!)
    }
    const log: Array<string> = []
    for (const op of ops) {
      log.push(JSON.stringify(op))
      if (op.t === "set") {
        const k = universe[op.k]!
        const v = `S${n++}`
        yield* cache.set(k, v)
        store(nameOf(k), v)
      } else if (op.t === "get") {
        const k = universe[op.k]!
        const name = nameOf(k)
        const got = yield* cache.get(k)
        const e = entries.get(name)
        let want: string
        if (e !== undefined) {
          e.lastAccess = now
          touch(name)
          want = e.value
        } else {
          want = `L${name}#${n - 1}`
          store(name, want)
        }
        if (got !== want) return yield* Effect.fail(`get ${name}: got ${got}, want ${want}\n${log.join("\n")}`)
      } else if (op.t === "opt") {
        const k = universe[op.k]!
        const name = nameOf(k)
        const got = some(yield* cache.getOption(k))
        const e = entries.get(name)
        const want = e === undefined ? "NONE" : e.value
        if (e !== undefined) {
          e.lastAccess = now
          touch(name)
        }
        if (got !== want) return yield* Effect.fail(`opt ${name}: got ${got}, want ${want}\n${log.join("\n")}`)
      } else if (op.t === "inv") {
        const k = universe[op.k]!
        yield* cache.invalidate(k)
        drop(nameOf(k))
      } else if (op.t === "invAll") {
        yield* cache.invalidateAll
        entries.clear()
        order.length = 0
      } else {
        yield* TestClock.adjust(op.ms)
        now += op.ms
        for (const [name, e] of [...entries]) {
          if (e.expiresAt <= now || (tti !== undefined && e.lastAccess + tti <= now)) drop(name)
        }
      }
      const size = yield* cache.size
      if (size !== entries.size) return yield* Effect.fail(`size ${size}, model ${entries.size}\n${log.join("\n")}`)
      for (const k of universe) {
        const has = yield* cache.contains(k)
        if (has !== entries.has(nameOf(k))) {
          return yield* Effect.fail(`contains ${nameOf(k)}: ${has}, model ${!has}\n${log.join("\n")}`)
        }
      }
    }
  })

describe("ChronoCache - storage model", () => {
  it("model - structural colliding keys, per-key lifetimes and idle time agree with a plain LRU model", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1, 2, 3),
        fc.constantFrom(undefined, 6, 20),
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        async (capacity, tti, ops) => {
          const exit = await Effect.runPromiseExit(
            runProgram(capacity, tti, ops).pipe(Effect.scoped, Effect.provide(TestContext.TestContext))
          )
          if (Exit.isFailure(exit)) throw new Error(Cause.pretty(exit.cause))
        }
      ),
      { numRuns: 400 }
    )
  }, 120_000)
})
