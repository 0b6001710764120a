/**
 * Misses: capacity 10k, uniform reads over 100k keys, so that nine reads in ten miss, load
 * and evict the least recently used entry. The Effect caches read with `yield* get(k)` in
 * one `Effect.gen` loop; the synchronous peers do what their users do on a miss (`get`, then
 * load and `set`) in a plain loop.
 */
import { Effect } from "effect"
import { nsPerOp } from "../lib/measure.js"
import { loadValue, makeEffectCache, makeSyncPeer } from "../lib/peers.js"
import type { CaseDef } from "../lib/protocol.js"
import { keys, uniform } from "../lib/random.js"
import { BLOCK, missCapacity, missKeyspace, SEED, sequenceLength } from "../lib/sizes.js"

export const miss: CaseDef = {
  name: "miss",
  title: "capacity 10k, 100k uniform keys: ~90% of reads load and evict",
  kind: "throughput",
  unit: "ns/op",
  impls: ["chrono", "effect-cache", "lru-cache", "mnemonist", "quick-lru"],
  run: async (impl, { quick }) => {
    const capacity = missCapacity(quick)
    const names = keys(missKeyspace(quick))
    const seq = uniform(names, sequenceLength(quick), SEED + 1)
    const mask = seq.length - 1
    let pos = 0
    let sum = 0
    let block: () => unknown
    let close = async () => {}

    if (impl === "chrono" || impl === "effect-cache") {
      let get: (key: string) => Effect.Effect<number, unknown>
      if (impl === "chrono") {
        const { makeChrono } = await import("../lib/chrono.js")
        const handle = await makeChrono(capacity)
        close = handle.close
        get = (k) => handle.cache.get(k)
      } else {
        const cache = await makeEffectCache(capacity)
        get = (k) => cache.get(k)
      }
      const program = Effect.gen(function*() {
        for (let i = 0; i < BLOCK; i++) sum += yield* get(seq[pos++ & mask]!)
      })
      // Run as a promise: a miss may suspend on its load, which `runSync` would refuse.
      block = () => Effect.runPromise(program)
    } else if (impl === "lru-cache" || impl === "mnemonist" || impl === "quick-lru") {
      const cache = makeSyncPeer(impl, capacity)
      block = () => {
        for (let i = 0; i < BLOCK; i++) {
          const k = seq[pos++ & mask]!
          let v = cache.get(k)
          if (v === undefined) {
            v = loadValue(k)
            cache.set(k, v)
          }
          sum += v
        }
      }
    } else {
      throw new Error(`unknown implementation ${impl}`)
    }

    // Fill the cache first, so that every timed read meets a full cache.
    for (let r = 0; r < Math.ceil((2 * capacity) / BLOCK); r++) await block()
    const value = await nsPerOp(block, BLOCK, quick)
    await close()
    return [{ metric: "time", value, ...(Number.isFinite(sum) ? {} : { note: "bad sum" }) }]
  }
}
