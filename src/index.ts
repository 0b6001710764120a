/**
 * @since 0.1.0
 */

/**
 * The cache: `ChronoCache.make`, `ChronoCache.layer` and its types.
 *
 * @since 0.1.0
 */
export * as ChronoCache from "./ChronoCache.js"

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
