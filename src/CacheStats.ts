/**
 * A snapshot of a cache's counters.
 *
 * @since 0.1.0
 */

/**
 * Entries removed by the cache itself, by cause. Explicit removals (`invalidate`) and
 * replacements (`set` over a value) are not evictions.
 *
 * @since 0.1.0
 * @category models
 */
export interface Evictions {
  /** Removed to keep the cache within `capacity`. */
  readonly size: number
  /** Removed because their time-to-live or time-to-idle passed. */
  readonly expired: number
  /** Removed because the garbage collector took their weakly held value. */
  readonly collected: number
}

/**
 * The counters of one cache, read at one moment. `hits + misses` is the number of `get`
 * calls (and synchronous and Promise reads, which are gets too); `joins` counts the gets
 * that joined a load in flight, which are hits as well.
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheStats {
  /** Gets answered from the cache or by joining a load in flight. */
  readonly hits: number
  /** Gets that found nothing usable and started a load. */
  readonly misses: number
  /** Gets that joined a load already in flight (also counted in `hits`). */
  readonly joins: number
  /** Loads (including refreshes) whose loader succeeded. */
  readonly loadSuccesses: number
  /**
   * Loads (including refreshes) that failed, died or timed out. A load interrupted because
   * every waiter left (`abandonedLoads: "interrupt"`) is not counted.
   */
  readonly loadFailures: number
  /** Loads that ran past `loadTimeout` (also counted in `loadFailures`). */
  readonly loadTimeouts: number
  /**
   * Refreshes that failed while their entry was still in the cache (also counted in
   * `loadFailures`; a refresh whose entry was invalidated or evicted meanwhile, or which
   * loaded an entry past its time afresh, counts there only). An old value stays in place; an
   * old kept failure is replaced by the new one.
   */
  readonly refreshFailures: number
  /** Milliseconds of `Clock` time spent in finished loads, summed. */
  readonly totalLoadTimeMillis: number
  /** Entries removed by the cache itself, by cause. */
  readonly evictions: Evictions
  /** Entries holding a value or a kept failure. */
  readonly size: number
  /** Loads in flight. */
  readonly pendingLoads: number
  /** Weak values found collected (equals `evictions.collected`). */
  readonly collected: number
  /** Notices of collected values waiting in the cleanup queue. */
  readonly cleanupQueueDepth: number
  /** Notices that found the cleanup queue full and were folded into a reconciliation. */
  readonly cleanupOverflows: number
  /** Reconciliation passes run (each removes every dead weak entry at once). */
  readonly reconciliations: number
}
