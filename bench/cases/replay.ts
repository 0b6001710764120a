/**
 * OLTP replay: the database trace through `get` at capacity 1,000, where about two requests
 * in three miss. A warm-up replays the first requests on a throwaway cache; then a fresh
 * cache replays the timed prefix once. Reported per request.
 */
import { Effect } from "effect"
import { LRUCache } from "lru-cache"
import { loadValue, makeEffectCache } from "../lib/peers.js"
import type { CaseDef } from "../lib/protocol.js"
import { replayCapacity, replayRequests } from "../lib/sizes.js"
import { readTrace } from "../lib/traces.js"

type Replayer = (requests: ReadonlyArray<string>) => Promise<number>

const effectReplayer = (get: (key: string) => Effect.Effect<number, unknown>): Replayer => (requests) =>
  Effect.runPromise(Effect.gen(function*() {
    let sum = 0
    for (let i = 0; i < requests.length; i++) sum += yield* get(requests[i]!)
    return sum
  }))

export const replay: CaseDef = {
  name: "replay",
  title: "OLTP trace replay at capacity 1,000 through get",
  kind: "single",
  unit: "ns/op",
  // One pass is long enough to average out the noise of a single process.
  maxRounds: 3,
  impls: ["chrono", "effect-cache", "lru-cache"],
  traces: ["OLTP"],
  run: async (impl, { quick }) => {
    const trace = readTrace("OLTP")
    const timed = trace.slice(0, Math.min(trace.length, replayRequests(quick)))
    const warm = trace.slice(0, Math.min(trace.length, quick ? 10_000 : 50_000))
    const closers: Array<() => Promise<void>> = []

    const fresh = async (): Promise<Replayer> => {
      if (impl === "chrono") {
        const { makeChrono } = await import("../lib/chrono.js")
        const handle = await makeChrono(replayCapacity)
        closers.push(handle.close)
        return effectReplayer((k) => handle.cache.get(k))
      }
      if (impl === "effect-cache") {
        const cache = await makeEffectCache(replayCapacity)
        return effectReplayer((k) => cache.get(k))
      }
      if (impl === "lru-cache") {
        const cache = new LRUCache<string, number>({ max: replayCapacity })
        return async (requests) => {
          let sum = 0
          for (let i = 0; i < requests.length; i++) {
            const k = requests[i]!
            let v = cache.get(k)
            if (v === undefined) {
              v = loadValue(k)
              cache.set(k, v)
            }
            sum += v
          }
          return sum
        }
      }
      throw new Error(`unknown implementation ${impl}`)
    }

    await (await fresh())(warm)
    const replayer = await fresh()
    const t0 = performance.now()
    await replayer(timed)
    const ms = performance.now() - t0
    for (const close of closers) await close()
    return [{ metric: "time", value: (ms * 1e6) / timed.length, requests: timed.length }]
  }
}
