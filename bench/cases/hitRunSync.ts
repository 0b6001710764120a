/**
 * Synchronous hits through a whole Effect read: ChronoCache's `getSync(k)` per call against
 * `Effect.runSync(cache.get(k))` per call on Effect's `Cache`, which is what code outside an
 * Effect program must do to read Effect's cache synchronously.
 */
import { Effect } from "effect"
import { nsPerOp } from "../lib/measure.js"
import { makeEffectCache } from "../lib/peers.js"
import type { CaseDef } from "../lib/protocol.js"
import { keys, uniform } from "../lib/random.js"
import { BLOCK, hitEntries, SEED, sequenceLength } from "../lib/sizes.js"

export const hitRunSync: CaseDef = {
  name: "hit-runsync",
  title: "100k entries, uniform random hits, one synchronous call per read",
  kind: "throughput",
  unit: "ns/op",
  impls: ["chrono", "effect-cache"],
  run: async (impl, { quick }) => {
    const n = hitEntries(quick)
    const names = keys(n)
    const seq = uniform(names, sequenceLength(quick), SEED)
    const mask = seq.length - 1
    let pos = 0
    let sum = 0
    let block: () => void
    let close = async () => {}

    if (impl === "chrono") {
      const { makeChrono } = await import("../lib/chrono.js")
      const handle = await makeChrono(n)
      close = handle.close
      const cache = handle.cache
      await Effect.runPromise(Effect.forEach(names, (k) => cache.get(k), { discard: true }))
      block = () => {
        for (let i = 0; i < BLOCK; i++) sum += cache.getSync(seq[pos++ & mask]!)
      }
    } else if (impl === "effect-cache") {
      const cache = await makeEffectCache(n)
      await Effect.runPromise(Effect.forEach(names, (k) => cache.get(k), { discard: true }))
      block = () => {
        for (let i = 0; i < BLOCK; i++) sum += Effect.runSync(cache.get(seq[pos++ & mask]!))
      }
    } else {
      throw new Error(`unknown implementation ${impl}`)
    }

    const value = await nsPerOp(block, BLOCK, quick)
    await close()
    // The sum is checked so that the reads cannot be optimized away.
    return [{ metric: "time", value, ...(Number.isFinite(sum) ? {} : { note: "bad sum" }) }]
  }
}
