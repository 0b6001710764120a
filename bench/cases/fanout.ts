/**
 * Fan-out: 10,000 fibers `get` one cold key whose loader takes 10 ms. A cache that shares
 * loads runs the loader once and wakes every fiber when it is done.
 *
 * The floor is the same fan-out over `Effect.succeed` after the loader's unavoidable 10 ms:
 * what the work would cost if sharing the load were free. A second reference, `deferred`, has
 * the 10,000 fibers wait on one `Deferred` that a forked 10 ms loader completes: the least a
 * shared load costs when every caller is a fiber that must suspend and be woken. Each process
 * first runs three fan-outs on other keys (warm-up), then times one on a fresh key.
 */
import { Deferred, Effect } from "effect"
import { wallMs } from "../lib/measure.js"
import { makeEffectCache } from "../lib/peers.js"
import type { CaseDef } from "../lib/protocol.js"
import { fanoutCallers, fanoutLoadMillis } from "../lib/sizes.js"

const WARMUPS = 3

export const fanout: CaseDef = {
  name: "fanout",
  title: "10,000 fibers get one cold key, 10 ms loader (wall time)",
  kind: "single",
  unit: "ms",
  impls: ["chrono", "effect-cache", "floor", "deferred"],
  run: async (impl) => {
    const callers = Array.from({ length: fanoutCallers }, (_, i) => i)
    const loads = new Map<string, number>()
    const lookup = (k: string) =>
      Effect.sleep(fanoutLoadMillis).pipe(
        Effect.zipRight(Effect.sync(() => {
          loads.set(k, (loads.get(k) ?? 0) + 1)
          return k.length
        }))
      )
    let fan: (key: string) => Effect.Effect<void, unknown>
    let close = async () => {}

    if (impl === "chrono" || impl === "effect-cache") {
      let get: (key: string) => Effect.Effect<number, unknown>
      if (impl === "chrono") {
        const { makeChrono } = await import("../lib/chrono.js")
        const handle = await makeChrono(1000, lookup)
        close = handle.close
        get = (k) => handle.cache.get(k)
      } else {
        const cache = await makeEffectCache(1000, lookup)
        get = (k) => cache.get(k)
      }
      fan = (key) => Effect.forEach(callers, () => get(key), { concurrency: "unbounded", discard: true })
    } else if (impl === "floor") {
      fan = (key) =>
        Effect.zipRight(
          lookup(key),
          Effect.forEach(callers, () => Effect.succeed(1), { concurrency: "unbounded", discard: true })
        )
    } else if (impl === "deferred") {
      fan = (key) =>
        Effect.gen(function*() {
          const done = yield* Deferred.make<number>()
          yield* Effect.fork(Effect.flatMap(lookup(key), (v) => Deferred.succeed(done, v)))
          yield* Effect.forEach(callers, () => Deferred.await(done), { concurrency: "unbounded", discard: true })
        })
    } else {
      throw new Error(`unknown implementation ${impl}`)
    }

    for (let w = 0; w < WARMUPS; w++) await Effect.runPromise(fan(`warm${w}`))
    const value = await wallMs(() => Effect.runPromise(fan("cold")))
    await close()
    return [{ metric: "time", value, loads: loads.get("cold") ?? 0 }]
  }
}
