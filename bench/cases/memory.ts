/**
 * Memory: bytes per entry of a cache holding 1M entries, measured as the growth of the
 * JavaScript heap plus array buffers (where typed arrays live) after full garbage
 * collections. Keys are allocated before the baseline and values are small integers, so the
 * figure is the cache's own cost per entry: index, recency order and entry records.
 */
import { Effect } from "effect"
import { fullGc, heapBytes } from "../lib/measure.js"
import { isSyncPeer, makeEffectCache, makeSyncPeer, SYNC_PEERS } from "../lib/peers.js"
import type { CaseDef } from "../lib/protocol.js"
import { keys } from "../lib/random.js"
import { memoryEntries } from "../lib/sizes.js"

export const memory: CaseDef = {
  name: "memory",
  title: "1M entries: heap + array buffers after GC, per entry",
  kind: "single",
  unit: "bytes/entry",
  // Filling a million entries through a loader takes long, and the figure is steady.
  maxRounds: 3,
  impls: ["chrono", "effect-cache", ...SYNC_PEERS],
  run: async (impl, { quick }) => {
    const n = memoryEntries(quick)
    const names = keys(n)
    let held: unknown
    let close = async () => {}
    let check: () => boolean

    fullGc()
    const before = heapBytes()

    if (impl === "chrono" || impl === "effect-cache") {
      // Filled through `get`, as the caches of Effect programs are filled.
      let get: (key: string) => Effect.Effect<number, unknown>
      if (impl === "chrono") {
        const { makeChrono } = await import("../lib/chrono.js")
        const handle = await makeChrono(n)
        close = handle.close
        held = handle.cache
        get = (k) => handle.cache.get(k)
      } else {
        const cache = await makeEffectCache(n)
        held = cache
        get = (k) => cache.get(k)
      }
      await Effect.runPromise(Effect.gen(function*() {
        for (let i = 0; i < n; i++) yield* get(names[i]!)
      }))
      check = () => Effect.runSync(get(names[0]!)) === names[0]!.length
    } else if (isSyncPeer(impl)) {
      const cache = makeSyncPeer(impl, n)
      held = cache
      for (let i = 0; i < n; i++) cache.set(names[i]!, i)
      check = () => cache.get(names[n - 1]!) === n - 1
    } else {
      throw new Error(`unknown implementation ${impl}`)
    }

    fullGc()
    const after = heapBytes()
    // Read once after measuring, so that the cache (and the keys) stay reachable until here.
    const ok = check() && held !== undefined && names.length === n
    await close()
    return [{ metric: "bytes", value: (after - before) / n, ...(ok ? {} : { note: "entry lost" }) }]
  }
}
