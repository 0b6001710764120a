/**
 * The ratios the bench reports, each between ChronoCache and a peer measured in the same
 * round (the same sequence of processes), so that machine-wide drift cancels out.
 *
 * Every underlying figure is lower-is-better (time or bytes). A higher-is-better ratio is
 * `peer / ChronoCache` (how many times faster ChronoCache is); a lower-is-better ratio is
 * `ChronoCache / peer` (how many times the peer's cost ChronoCache pays).
 */

/** A ratio, its scenario and its target. */
export interface RatioDef {
  readonly name: string
  readonly scenario: string
  readonly case: string
  readonly ours: string
  readonly peer: string
  readonly better: "higher" | "lower"
  readonly target: number
  /** The loader must have run exactly this many times in ChronoCache's runs. */
  readonly loads?: number
}

export const RATIOS: ReadonlyArray<RatioDef> = [
  {
    name: "hitSyncVsLruCache",
    scenario: "100k entries, uniform hits: `getOptionSync` vs lru-cache `get`",
    case: "hit-sync",
    ours: "chrono",
    peer: "lru-cache",
    better: "higher",
    target: 0.8
  },
  {
    name: "hitEffectVsEffectCache",
    scenario: "same, `yield* cache.get(k)` in one `Effect.gen` loop vs Effect `Cache.get`",
    case: "hit-effect",
    ours: "chrono",
    peer: "effect-cache",
    better: "higher",
    target: 4
  },
  {
    name: "hitEffectVsFloor",
    scenario: "same, vs `yield* Effect.sync(() => map.get(k))`",
    case: "hit-effect",
    ours: "chrono",
    peer: "floor",
    better: "higher",
    target: 0.7
  },
  {
    name: "hitGetSyncVsEffectCacheRunSync",
    scenario: "`getSync` per call vs `Effect.runSync(effectCache.get(k))`",
    case: "hit-runsync",
    ours: "chrono",
    peer: "effect-cache",
    better: "higher",
    target: 5
  },
  {
    name: "missVsEffectCache",
    scenario: "capacity 10k, 100k uniform keys, misses load and evict",
    case: "miss",
    ours: "chrono",
    peer: "effect-cache",
    better: "higher",
    target: 3
  },
  {
    name: "fanoutVsFloor",
    scenario: "10,000 fibers `get` one cold key, 10 ms loader, vs the fan-out over `Effect.succeed`",
    case: "fanout",
    ours: "chrono",
    peer: "floor",
    better: "lower",
    target: 1.2,
    loads: 1
  },
  {
    name: "promiseFanoutVsLruCache",
    scenario: "10,000 concurrent `getPromise` of one cold key vs lru-cache `fetch`",
    case: "promise-fanout",
    ours: "chrono",
    peer: "lru-cache",
    better: "lower",
    target: 3,
    loads: 1
  },
  {
    name: "bytesPerEntryVsLruCache",
    scenario: "1M entries, heap + array buffers after GC",
    case: "memory",
    ours: "chrono",
    peer: "lru-cache",
    better: "lower",
    target: 1.5
  },
  {
    name: "replayVsEffectCache",
    scenario: "OLTP trace replay at capacity 1,000 through `get`",
    case: "replay",
    ours: "chrono",
    peer: "effect-cache",
    better: "higher",
    target: 3
  }
]

/** The ratio of one round, oriented as the definition says. */
export const ratioOf = (def: RatioDef, ours: number, peer: number): number =>
  def.better === "higher" ? peer / ours : ours / peer

/** Whether a ratio meets its target. */
export const meets = (def: RatioDef, ratio: number): boolean =>
  def.better === "higher" ? ratio >= def.target : ratio <= def.target
