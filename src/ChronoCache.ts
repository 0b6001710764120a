/**
 * ChronoCache: a concurrent, time-aware cache for Effect programs.
 *
 * A program says how to load a value (`lookup: (key) => Effect`); the cache turns many
 * concurrent requests for the same key into one load, keeps at most `capacity` results in
 * exact least-recently-used order, expires them on the `Clock` of the layer that built it,
 * and never leaves a caller waiting for a load that can no longer finish.
 *
 * @since 0.1.0
 */
import type { Context, Duration, Effect, Exit, Layer, Option, Scope } from "effect"
import type { ChronoCacheError, InvalidOptionsError } from "./CacheError.js"
import type { CacheStats } from "./CacheStats.js"
import * as internal from "./internal/cache.js"
import * as builder from "./internal/make.js"

export {
  CacheClosedError,
  type ChronoCacheError,
  CircularLoadError,
  InvalidOptionsError,
  LoadPendingError,
  LoadTimeoutError,
  ReentrantAccessError
} from "./CacheError.js"
export type { CacheStats, Evictions } from "./CacheStats.js"

/**
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * How long a loaded result lives: one duration for every success (failures are then never
 * kept), or a function of the load's `Exit` and key, so that successes and failures can live
 * differently. A duration of zero (or less than the time to the next read) keeps nothing:
 * the result reaches only the callers that waited for its load.
 *
 * @since 0.1.0
 * @category models
 */
export type TimeToLive<K, V, E> =
  | Duration.DurationInput
  | ((exit: Exit.Exit<V, E>, key: K) => Duration.DurationInput)

/**
 * What a load does when every caller waiting for it has left (was interrupted, or its
 * `AbortSignal` fired): `"complete"` lets it finish and stores its value for the next
 * caller; `"interrupt"` interrupts it and removes its entry.
 *
 * @since 0.1.0
 * @category models
 */
export type AbandonedLoads = "complete" | "interrupt"

/**
 * The options of a cache. `lookup` and `capacity` are required.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<K, V, E = never, R = never> {
  /** How to load a missing key. It runs on the cache's own runtime, never the caller's. */
  readonly lookup: (key: K) => Effect.Effect<V, E, R>
  /**
   * The most entries kept: a non-negative integer. `0` keeps nothing but still shares
   * loads in flight between their callers.
   */
  readonly capacity: number
  /** Expire after write. See {@link TimeToLive}. Default: never. */
  readonly timeToLive?: TimeToLive<K, V, E> | undefined
  /** Expire after the last read (or write). Default: never. */
  readonly timeToIdle?: Duration.DurationInput | undefined
  /**
   * A load running longer fails all its waiters with `LoadTimeoutError`, its loader is
   * interrupted and its entry removed. Default: none; an infinite duration means none too.
   *
   * Limitation: a loader that is stuck inside an uninterruptible region keeps running in
   * the background after its waiters were answered, until it gives up by itself.
   */
  readonly loadTimeout?: Duration.DurationInput | undefined
  /**
   * Hold values through `WeakRef`, so that the garbage collector may take a value nothing
   * else uses. Values must then be objects: a load that produces a primitive fails with
   * `InvalidOptionsError` and stores nothing. Default: `false`.
   *
   * Limitation: eviction takes a dead entry before a live one when the dead one is among the
   * 16 least recently used, or its collection notice has arrived; a dead entry further in
   * may outlive a live one until its notice, a read, or the periodic reconciliation finds it.
   */
  readonly weakValues?: boolean | undefined
  /** Size of the bounded queue of collected-value notices. Default: 1024. */
  readonly cleanupQueueCapacity?: number | undefined
  /** See {@link AbandonedLoads}. Default: `"complete"`. */
  readonly abandonedLoads?: AbandonedLoads | undefined
  /**
   * The least time between two sweeps, which reclaim expired (and, with weak values,
   * collected) entries. With strong values the sweeper sleeps until the next entry is due,
   * and not at all while none is; with weak values it sweeps this often. Default: 1 second.
   */
  readonly sweepInterval?: Duration.DurationInput | undefined
  /** A name for log annotations and error messages. */
  readonly name?: string | undefined
}

/**
 * Options of `getPromise`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PromiseOptions {
  /**
   * When it fires, only this caller's promise rejects (with the signal's reason); the load
   * goes on for its other waiters, and `abandonedLoads` applies if it was the last.
   */
  readonly signal?: AbortSignal | undefined
}

/**
 * A concurrent, time-aware cache from keys `K` to values `V`, whose loader may fail with `E`.
 *
 * Members shown without parentheses are Effect-valued properties, as in Effect's own `Cache`.
 * Every Effect-valued member fails with `CacheClosedError` once the cache's scope is closed.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChronoCache<in out K, in out V, in out E = never> {
  readonly [TypeId]: TypeId

  /**
   * The value of `key`: from the cache when a fresh one is there, else from a load.
   *
   * **Concurrency**: all callers that ask for the same key while it loads share one load.
   * The load is a fiber of the cache, not of the caller: interrupting a caller detaches only
   * that caller. Every waiter gets the same answer at the same time: the value, the loader's
   * failure or defect, `LoadTimeoutError`, `CacheClosedError`, or `CircularLoadError` when a
   * loader waits (directly or through other keys) for its own key: the wait that would close
   * the cycle is refused, and the other loads on the cycle then fail with the same error
   * unless their loaders catch it. A failed load is removed before its waiters resume, so a
   * retry starts a fresh load.
   */
  get(key: K): Effect.Effect<V, E | ChronoCacheError>

  /**
   * The value of `key` if a fresh one is present; never loads and never waits (`None` while a
   * load is in flight). Counts as a read for recency and idle time, not in the hit counters.
   */
  getOption(key: K): Effect.Effect<Option.Option<V>, ChronoCacheError>

  /**
   * Whether a fresh result (a value, or a failure kept by `timeToLive`) or a running load is
   * present for `key`. Not a read.
   */
  contains(key: K): Effect.Effect<boolean, ChronoCacheError>

  /**
   * Puts a value, evicting the least recently used entries beyond `capacity`.
   *
   * **Concurrency**: over a load in flight, the set value is stored and the load's waiters
   * still get the loaded value, which is not stored.
   */
  set(key: K, value: V): Effect.Effect<void, ChronoCacheError>

  /**
   * Loads `key` again. Readers keep the old value until the new one is in. Completes when the
   * new value is stored; on failure it fails with the loader's error and keeps the old value.
   * Over a kept failure, a new failure replaces the old one: the loader's own failure for as
   * long as `timeToLive` keeps it, a `LoadTimeoutError` not at all (the entry goes). On an
   * absent key it loads like `get`.
   *
   * **Concurrency**: a refresh of a key already refreshing joins the refresh in flight. A
   * `set` or `invalidate` made while it runs wins: the refreshed value is then not stored.
   */
  refresh(key: K): Effect.Effect<void, E | ChronoCacheError>

  /** Removes `key`. A load in flight goes on for its waiters but its result is not stored. */
  invalidate(key: K): Effect.Effect<void, ChronoCacheError>

  /** Removes every entry, as `invalidate` does for each. */
  readonly invalidateAll: Effect.Effect<void, ChronoCacheError>

  /**
   * Entries holding a value or a kept failure; loads in flight are not counted. Entries whose
   * time has passed are reclaimed first, so they are never counted.
   */
  readonly size: Effect.Effect<number, ChronoCacheError>

  /** A snapshot of the counters. */
  readonly cacheStats: Effect.Effect<CacheStats, ChronoCacheError>

  /**
   * A synchronous `get` on the cache's runtime, as an `Exit`. A hit returns the stored value.
   * A miss starts the load; if the loader completes without suspending its result is
   * returned (and cached), otherwise the result is a `LoadPendingError` and the load goes on.
   * A loader that runs long enough for Effect's scheduler to yield it (about 2,000 steps)
   * counts as suspending.
   *
   * **Concurrency**: a load already in flight for the key is joined (counted as a hit and a
   * join, never started twice) and answered with `LoadPendingError`. Refused with
   * `ReentrantAccessError` when called from a fiber this cache owns (a loader, a fiber it
   * forked, or a background fiber of the cache) or from its `timeToLive` function; another
   * cache's loader may call it.
   */
  getSyncExit(key: K): Exit.Exit<V, E | ChronoCacheError>

  /**
   * As `getSyncExit`, returning the value, or throwing the typed error itself on failure and
   * the thrown value itself on a defect.
   *
   * **Concurrency**: as `getSyncExit`: a load in flight is joined, never doubled, and answered
   * with a thrown `LoadPendingError`; refused inside the cache's own fibers with
   * `ReentrantAccessError`.
   */
  getSync(key: K): V

  /**
   * The value of `key` if a fresh one is present, synchronously. Never loads, never fails
   * (`None` after close; only a key whose own `Equal` or `Hash` throws makes it throw that
   * error), and may be called anywhere, loaders included, since it cannot wait.
   * It does not enter the Effect runtime, and for strong values a hit allocates nothing after
   * the first: the `Option` is made once per stored value and kept (in the key index, where
   * a hit finds it in the same lookup).
   *
   * Limitation: keeping the `Option` costs memory (about 40 bytes per entry read this way)
   * and a hit reads it from memory, which on a large cache is a scattered access that
   * lru-cache's `get` does not make. With `weakValues` every hit makes a new `Option` (a kept
   * one would hold the value strongly); on a cache with a time limit the clock read may
   * allocate a number.
   *
   * **Concurrency**: `None` while a load of the key is in flight; during a refresh, the old
   * value. Counts as a read for recency and idle time, not in the hit counters.
   */
  getOptionSync(key: K): Option.Option<V>

  /**
   * `get` for code outside Effect, run on the cache's runtime whatever runtime (or none) the
   * caller has. Rejects with the typed error itself, or the defect itself.
   *
   * **Concurrency**: as `get`; the caller waits without a fiber, and its promise settles at
   * the same moment as the fibers waiting for the same load. A fired `signal` rejects only
   * this caller's promise, with the signal's reason.
   *
   * Limitation: a loader that awaits `getPromise` of its own key (directly or through other
   * keys) is found to be in a cycle only when it calls `getPromise` while its fiber runs (for
   * example inside `Effect.tryPromise`'s function); a call made later, from a promise
   * callback, cannot be traced to the load and waits like any caller. Bound such loaders with
   * `loadTimeout`.
   */
  getPromise(key: K, options?: PromiseOptions): Promise<V>
}

/**
 * Builds a cache in the current `Scope`. The cache captures the runtime of the building
 * fiber (the services the loader needs, the `Clock`, the FiberRefs): every load and
 * background task runs there. Closing the scope interrupts its loads and background fibers,
 * answers every waiter with `CacheClosedError`, and closes the cache.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ChronoCache } from "chronocache"
 *
 * const program = Effect.gen(function*() {
 *   const cache = yield* ChronoCache.make({
 *     lookup: (id: number) => Effect.succeed(`user ${id}`),
 *     capacity: 1000,
 *     timeToLive: "5 minutes"
 *   })
 *   return yield* cache.get(42)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <K, V, E = never, R = never>(
  options: Options<K, V, E, R>
) => Effect.Effect<ChronoCache<K, V, E>, InvalidOptionsError, Scope.Scope | R> = builder.make

/**
 * A `Layer` that builds a cache (as `make` does) and provides it under `tag`. The cache
 * lives as long as the layer.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { ChronoCache } from "chronocache"
 *
 * class Users extends Context.Tag("Users")<Users, ChronoCache.ChronoCache<number, string>>() {}
 *
 * const UsersLive = ChronoCache.layer(Users, {
 *   lookup: (id: number) => Effect.succeed(`user ${id}`),
 *   capacity: 10_000
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const layer: <I, K, V, E = never, R = never>(
  tag: Context.Tag<I, ChronoCache<K, V, E>>,
  options: Options<K, V, E, R>
) => Layer.Layer<I, InvalidOptionsError, R> = builder.layer
