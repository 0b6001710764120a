/**
 * The cache's counters and their snapshot.
 *
 * Implementation notes
 *
 * State: plain numbers, one per counter, bumped by cache.ts in its synchronous sections
 * (a counter costs one increment on the path that bumps it, nothing else). A snapshot
 * copies them into a fresh, frozen `CacheStats`.
 */
import type { CacheStats } from "../CacheStats.js"

/** @internal */
export class Counters {
  hits = 0
  misses = 0
  joins = 0
  loadSuccesses = 0
  loadFailures = 0
  loadTimeouts = 0
  refreshFailures = 0
  totalLoadTimeMillis = 0
  evictedSize = 0
  evictedExpired = 0
  evictedCollected = 0

  snapshot(
    size: number,
    pendingLoads: number,
    weak: { cleanupQueueDepth: number; cleanupOverflows: number; reconciliations: number }
  ): CacheStats {
    return Object.freeze({
      hits: this.hits,
      misses: this.misses,
      joins: this.joins,
      loadSuccesses: this.loadSuccesses,
      loadFailures: this.loadFailures,
      loadTimeouts: this.loadTimeouts,
      refreshFailures: this.refreshFailures,
      totalLoadTimeMillis: this.totalLoadTimeMillis,
      evictions: Object.freeze({
        size: this.evictedSize,
        expired: this.evictedExpired,
        collected: this.evictedCollected
      }),
      size,
      pendingLoads,
      collected: this.evictedCollected,
      cleanupQueueDepth: weak.cleanupQueueDepth,
      cleanupOverflows: weak.cleanupOverflows,
      reconciliations: weak.reconciliations
    })
  }
}
