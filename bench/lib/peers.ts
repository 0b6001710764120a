/**
 * The caches ChronoCache is measured against, each built the way its users would build it
 * for the same job: a bounded LRU of `capacity` string keys. Every peer exposes the same two
 * synchronous operations so that the plain-loop cases can drive them with one piece of code.
 */
import { Cache, Duration, Effect } from "effect"
import { LRUCache } from "lru-cache"
import { LRUCache as MnemonistLRU } from "mnemonist"
import QuickLRU from "quick-lru"

/** A synchronous cache as a plain loop sees it. */
export interface SyncCache {
  get(key: string): number | undefined
  set(key: string, value: number): void
}

/** The names of the synchronous peers (and the `Map` floor). */
export const SYNC_PEERS = ["lru-cache", "mnemonist", "quick-lru", "map"] as const

/** One of {@link SYNC_PEERS}. */
export type SyncPeer = (typeof SYNC_PEERS)[number]

/** Whether `impl` names a synchronous peer. */
export const isSyncPeer = (impl: string): impl is SyncPeer => (SYNC_PEERS as ReadonlyArray<string>).includes(impl)

/**
 * Builds a synchronous peer. The `Map` floor is unbounded: it is the cost of the index alone,
 * with no recency bookkeeping, so it is only used where nothing is evicted.
 */
export const makeSyncPeer = (impl: SyncPeer, capacity: number): SyncCache => {
  switch (impl) {
    case "lru-cache":
      return new LRUCache<string, number>({ max: capacity })
    case "mnemonist":
      return new MnemonistLRU<string, number>(capacity)
    case "quick-lru":
      return new QuickLRU<string, number>({ maxSize: capacity })
    case "map":
      return new Map<string, number>()
  }
}

/** The loader every case uses: cheap, synchronous, and derived from the key. */
export const loadValue = (key: string): number => key.length

/** The same loader as an Effect, for the Effect-based caches. */
export const lookup = (key: string): Effect.Effect<number> => Effect.succeed(key.length)

/**
 * Effect's own `Cache` with the same capacity and an infinite time-to-live, which is how a
 * user of Effect would get a bounded LRU without ChronoCache.
 */
export const makeEffectCache = (
  capacity: number,
  load: (key: string) => Effect.Effect<number> = lookup
): Promise<Cache.Cache<string, number>> =>
  Effect.runPromise(Cache.make({ capacity, timeToLive: Duration.infinity, lookup: load }))
