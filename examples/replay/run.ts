/**
 * The replay itself: every key of a trace becomes one `get` on a fresh ChronoCache whose
 * loader stands for the origin (it returns the key and counts the load).
 */
import { Effect, Stream } from "effect"
import type { ChronoCacheError, InvalidOptionsError } from "../../src/index.js"
import { ChronoCache } from "../../src/index.js"
import type { TraceKey } from "./formats.js"
import type { ReplayCounts } from "./report.js"

/**
 * Replays `keys` through a cache of `capacity` entries, calling `onBatch` with the number of
 * requests made so far after each batch. The `get`s run one after another on the calling
 * fiber, in a plain loop: one fiber per request would measure the scheduler, not the cache.
 */
export const replayKeys = <E, R>(
  keys: Stream.Stream<ReadonlyArray<TraceKey>, E, R>,
  capacity: number,
  onBatch: (requests: number) => void = () => {}
): Effect.Effect<ReplayCounts, E | InvalidOptionsError | ChronoCacheError, R> =>
  Effect.gen(function*() {
    let loads = 0
    const cache = yield* ChronoCache.make({
      lookup: (key: TraceKey) =>
        Effect.sync(() => {
          loads++
          return key
        }),
      capacity
    })
    let requests = 0
    yield* Stream.runForEach(keys, (batch) =>
      Effect.gen(function*() {
        for (let i = 0; i < batch.length; i++) yield* cache.get(batch[i]!)
        requests += batch.length
        onBatch(requests)
      }))
    const stats = yield* cache.cacheStats
    return { requests, hits: stats.hits, misses: stats.misses, loads, evictions: stats.evictions.size }
  }).pipe(Effect.scoped)
