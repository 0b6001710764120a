/**
 * Hit ratios on recorded traces and on a Zipf workload, through each cache's loading read.
 * The ratio is `1 - loads / requests`, counted from the loader, which every cache calls
 * exactly once per miss; no cache's own statistics are trusted for it.
 *
 * ChronoCache keeps exact least-recently-used order, so on every workload it must match
 * lru-cache to the request. Effect's `Cache` is shown as its users would meet it.
 */
import { Effect } from "effect"
import { LRUCache } from "lru-cache"
import { makeEffectCache } from "../lib/peers.js"
import type { CaseDef, Measurement } from "../lib/protocol.js"
import { keys, zipf } from "../lib/random.js"
import { SEED } from "../lib/sizes.js"
import { readTrace } from "../lib/traces.js"

/** A workload: where its requests come from and the capacities it is replayed at. */
interface Workload {
  readonly name: string
  readonly title: string
  readonly capacities: ReadonlyArray<number>
  readonly trace?: string
  readonly requests: (quick: boolean) => Array<string>
}

/** Zipf's law with exponent 0.9 over 100k keys: a skewed, cache-friendly workload. */
const ZIPF_KEYS = 100_000

const traceWorkload = (trace: string, capacities: ReadonlyArray<number>): Workload => ({
  name: trace,
  title: `trace ${trace}`,
  capacities,
  trace,
  // Quick runs replay a prefix; their hit ratios are not those of the whole trace.
  requests: (quick) => (quick ? readTrace(trace).slice(0, 100_000) : readTrace(trace))
})

export const WORKLOADS: ReadonlyArray<Workload> = [
  traceWorkload("OLTP", [1000, 2000]),
  traceWorkload("gli", [1000, 2000]),
  traceWorkload("ps", [500, 1000]),
  traceWorkload("loop", [500, 1000]),
  {
    name: "zipf",
    title: "Zipf s = 0.9 over 100k keys",
    capacities: [1000, 10_000],
    requests: (quick) => zipf(keys(ZIPF_KEYS), quick ? 50_000 : 300_000, 0.9, SEED + 2)
  }
]

/**
 * Exact LRU hit ratios (%) of the whole traces, to check every LRU in the table against:
 * OLTP and gli as published by BitFaster.Caching (pull requests 131 and 132), ps and loop
 * from an independent LRU simulation of the same files.
 */
export const REFERENCE_LRU: Readonly<Record<string, number>> = {
  "OLTP@1000": 32.83,
  "OLTP@2000": 42.47,
  "gli@1000": 11.21,
  "gli@2000": 57.41,
  "ps@500": 48.55,
  "ps@1000": 48.55,
  "loop@500": 0,
  "loop@1000": 0
}

/** Loads counted by the replay of `requests` through a fresh cache of `capacity`. */
const countLoads = async (impl: string, requests: ReadonlyArray<string>, capacity: number): Promise<number> => {
  let loads = 0
  const lookup = (k: string) =>
    Effect.sync(() => {
      loads++
      return k.length
    })
  if (impl === "lru-cache") {
    const cache = new LRUCache<string, number>({ max: capacity })
    for (let i = 0; i < requests.length; i++) {
      const k = requests[i]!
      if (cache.get(k) === undefined) {
        loads++
        cache.set(k, k.length)
      }
    }
    return loads
  }
  let get: (key: string) => Effect.Effect<number, unknown>
  let close = async () => {}
  if (impl === "chrono") {
    const { makeChrono } = await import("../lib/chrono.js")
    const handle = await makeChrono(capacity, lookup)
    close = handle.close
    get = (k) => handle.cache.get(k)
  } else if (impl === "effect-cache") {
    const cache = await makeEffectCache(capacity, lookup)
    get = (k) => cache.get(k)
  } else {
    throw new Error(`unknown implementation ${impl}`)
  }
  await Effect.runPromise(Effect.gen(function*() {
    for (let i = 0; i < requests.length; i++) yield* get(requests[i]!)
  }))
  await close()
  return loads
}

/** One case per workload, reporting one hit ratio per capacity. */
export const hitRatioCases: ReadonlyArray<CaseDef> = WORKLOADS.map((w): CaseDef => ({
  name: `ratio-${w.name}`,
  title: `hit ratio, ${w.title}, capacities ${w.capacities.join(" and ")}`,
  kind: "once",
  unit: "hit %",
  impls: ["chrono", "lru-cache", "effect-cache"],
  ...(w.trace !== undefined ? { traces: [w.trace] } : {}),
  run: async (impl, { quick }) => {
    const requests = w.requests(quick)
    const out: Array<Measurement> = []
    for (const capacity of w.capacities) {
      const loads = await countLoads(impl, requests, capacity)
      out.push({
        metric: `${w.name}@${capacity}`,
        value: (100 * (requests.length - loads)) / requests.length,
        loads,
        requests: requests.length
      })
    }
    return out
  }
}))
