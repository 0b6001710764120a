/**
 * Effect hits: the same 100k present entries, read with `yield* cache.get(k)` inside one
 * `Effect.gen` loop, as a program written with Effect reads a cache. The floor is
 * `yield* Effect.sync(() => map.get(k))` in the same loop: the least any read that returns an
 * Effect can cost.
 */
import { Effect } from "effect"
import { nsPerOp } from "../lib/measure.js"
import { makeEffectCache } from "../lib/peers.js"
import type { CaseDef } from "../lib/protocol.js"
import { keys, uniform } from "../lib/random.js"
import { BLOCK, hitEntries, SEED, sequenceLength } from "../lib/sizes.js"

export const hitEffect: CaseDef = {
  name: "hit-effect",
  title: "100k entries, uniform random hits, `yield* get(k)` in one Effect.gen loop",
  kind: "throughput",
  unit: "ns/op",
  impls: ["chrono", "effect-cache", "floor"],
  run: async (impl, { quick }) => {
    const n = hitEntries(quick)
    const names = keys(n)
    const seq = uniform(names, sequenceLength(quick), SEED)
    const mask = seq.length - 1
    let pos = 0
    let read: (key: string) => Effect.Effect<number | undefined, unknown>
    let close = async () => {}

    if (impl === "chrono") {
      const { makeChrono } = await import("../lib/chrono.js")
      const handle = await makeChrono(n)
      close = handle.close
      const cache = handle.cache
      // Loaded through `get`, as the cache of an Effect program is filled.
      await Effect.runPromise(Effect.forEach(names, (k) => cache.get(k), { discard: true }))
      read = (k) => cache.get(k)
    } else if (impl === "effect-cache") {
      const cache = await makeEffectCache(n)
      await Effect.runPromise(Effect.forEach(names, (k) => cache.get(k), { discard: true }))
      read = (k) => cache.get(k)
    } else if (impl === "floor") {
      const map = new Map<string, number>()
      for (let i = 0; i < n; i++) map.set(names[i]!, names[i]!.length)
      read = (k) => Effect.sync(() => map.get(k))
    } else {
      throw new Error(`unknown implementation ${impl}`)
    }

    let misses = 0
    // One program, built once and run once per block: only the reads are in the loop.
    const program = Effect.gen(function*() {
      for (let i = 0; i < BLOCK; i++) {
        if ((yield* read(seq[pos++ & mask]!)) === undefined) misses++
      }
    })
    const value = await nsPerOp(() => Effect.runSync(program), BLOCK, quick)
    await close()
    return [{ metric: "time", value, ...(misses > 0 ? { note: `${misses} reads missed` } : {}) }]
  }
}
