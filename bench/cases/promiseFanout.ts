/**
 * Promise fan-out: 10,000 concurrent promise reads of one cold key whose loader takes 10 ms,
 * from code outside Effect. ChronoCache's `getPromise` against lru-cache's `fetch`, which
 * shares the fetch of a key in flight the same way. Warm-up as in the fiber fan-out.
 */
import { Effect } from "effect"
import { LRUCache } from "lru-cache"
import { wallMs } from "../lib/measure.js"
import type { CaseDef } from "../lib/protocol.js"
import { fanoutCallers, fanoutLoadMillis } from "../lib/sizes.js"

const WARMUPS = 3

export const promiseFanout: CaseDef = {
  name: "promise-fanout",
  title: "10,000 concurrent promise reads of one cold key, 10 ms loader (wall time)",
  kind: "single",
  unit: "ms",
  impls: ["chrono", "lru-cache"],
  run: async (impl) => {
    const loads = new Map<string, number>()
    const count = (k: string) => {
      loads.set(k, (loads.get(k) ?? 0) + 1)
      return k.length
    }
    let read: (key: string) => Promise<unknown>
    let close = async () => {}

    if (impl === "chrono") {
      const { makeChrono } = await import("../lib/chrono.js")
      const handle = await makeChrono(
        1000,
        (k) => Effect.sleep(fanoutLoadMillis).pipe(Effect.zipRight(Effect.sync(() => count(k))))
      )
      close = handle.close
      read = (k) => handle.cache.getPromise(k)
    } else if (impl === "lru-cache") {
      const cache = new LRUCache<string, number>({
        max: 1000,
        fetchMethod: (k) => new Promise<number>((resolve) => setTimeout(() => resolve(count(k)), fanoutLoadMillis))
      })
      read = (k) => cache.fetch(k)
    } else {
      throw new Error(`unknown implementation ${impl}`)
    }

    const fan = (key: string) => Promise.all(Array.from({ length: fanoutCallers }, () => read(key)))
    for (let w = 0; w < WARMUPS; w++) await fan(`warm${w}`)
    const value = await wallMs(() => fan("cold"))
    await close()
    return [{ metric: "time", value, loads: loads.get("cold") ?? 0 }]
  }
}
