/**
 * Synchronous hits: 100k entries, all present, read in uniform random order from a plain
 * loop. ChronoCache reads through `getOptionSync`, its fastest read, against each peer's `get`
 * and a bare `Map.get` (the index alone, no recency bookkeeping).
 */
import { Effect, Option } from "effect"
import { nsPerOp } from "../lib/measure.js"
import { isSyncPeer, makeSyncPeer, SYNC_PEERS } from "../lib/peers.js"
import type { CaseDef } from "../lib/protocol.js"
import { keys, uniform } from "../lib/random.js"
import { BLOCK, hitEntries, SEED, sequenceLength } from "../lib/sizes.js"

export const hitSync: CaseDef = {
  name: "hit-sync",
  title: "100k entries, uniform random hits, synchronous read in a plain loop",
  kind: "throughput",
  unit: "ns/op",
  impls: ["chrono", ...SYNC_PEERS],
  run: async (impl, { quick }) => {
    const n = hitEntries(quick)
    const names = keys(n)
    const seq = uniform(names, sequenceLength(quick), SEED)
    const mask = seq.length - 1
    let pos = 0
    let misses = 0
    let block: () => void
    let close = async () => {}

    if (impl === "chrono") {
      const { makeChrono } = await import("../lib/chrono.js")
      const handle = await makeChrono(n)
      const cache = handle.cache
      close = handle.close
      Effect.runSync(Effect.forEach(names, (k, i) => cache.set(k, i), { discard: true }))
      block = () => {
        for (let i = 0; i < BLOCK; i++) {
          if (Option.isNone(cache.getOptionSync(seq[pos++ & mask]!))) misses++
        }
      }
    } else if (isSyncPeer(impl)) {
      const cache = makeSyncPeer(impl, n)
      for (let i = 0; i < n; i++) cache.set(names[i]!, i)
      block = () => {
        for (let i = 0; i < BLOCK; i++) {
          if (cache.get(seq[pos++ & mask]!) === undefined) misses++
        }
      }
    } else {
      throw new Error(`unknown implementation ${impl}`)
    }

    const value = await nsPerOp(block, BLOCK, quick)
    await close()
    return [{ metric: "time", value, ...(misses > 0 ? { note: `${misses} reads missed` } : {}) }]
  }
}
