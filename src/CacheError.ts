/**
 * The errors of ChronoCache. Each is a tagged error whose message says what happened and
 * what to do about it. A loader's own error type `E` passes through a cache unchanged; these
 * are the errors the cache itself adds.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import { show } from "./internal/show.js"

/**
 * Options given to `ChronoCache.make` or `ChronoCache.layer` were invalid, or (under
 * `weakValues`) a loader produced a value that cannot be held weakly.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptionsError extends Data.TaggedError("InvalidOptionsError")<{
  /** The option at fault, for example `"capacity"`. */
  readonly option: string
  /** What is wrong with it. */
  readonly reason: string
}> {
  override get message(): string {
    return `Invalid ChronoCache option "${this.option}": ${this.reason}.`
  }
}

/**
 * A synchronous read (`getSync`, `getSyncExit`) was made from a fiber that the cache owns:
 * a loader, a fiber a loader forked, or one of the cache's background fibers. Waiting there
 * could deadlock, so the read is refused at once.
 *
 * @since 0.1.0
 * @category errors
 */
export class ReentrantAccessError extends Data.TaggedError("ReentrantAccessError")<{
  /** The key that was read. */
  readonly key: unknown
}> {
  override get message(): string {
    return `Synchronous read of key ${
      show(this.key)
    } from inside the cache's own fiber (a loader or a background task) was refused: ` +
      "use the Effect API (`yield* cache.get(key)`) there instead."
  }
}

/** How many keys of a cycle `CircularLoadError`'s message shows. */
const CYCLE_SHOWN = 8

/**
 * A load waited, directly or through other keys, for its own key. The `keys` field lists the
 * cycle in order: the first key's load waits for the second key, and so on, and the last
 * key's load waits for the first.
 *
 * @since 0.1.0
 * @category errors
 */
export class CircularLoadError extends Data.TaggedError("CircularLoadError")<{
  /** The keys of the cycle, in the order in which their loads wait for each other. */
  readonly keys: ReadonlyArray<unknown>
}> {
  override get message(): string {
    const keys = this.keys
    // A long cycle is shown by its first keys and how many more there are.
    const shown = keys.length <= CYCLE_SHOWN ? [...keys, keys[0]] : keys.slice(0, CYCLE_SHOWN)
    const rest = keys.length <= CYCLE_SHOWN ? "" : ` -> … (${keys.length - CYCLE_SHOWN} more keys, then back)`
    return `Circular load: ${shown.map(show).join(" -> ")}${rest}. A loader must not depend, ` +
      "directly or through other keys, on its own key; break the cycle in the lookup functions."
  }
}

/**
 * A synchronous read found a load that would have to wait. The load goes on in the
 * background; a later read finds its value.
 *
 * @since 0.1.0
 * @category errors
 */
export class LoadPendingError extends Data.TaggedError("LoadPendingError")<{
  /** The key being loaded. */
  readonly key: unknown
}> {
  override get message(): string {
    return `The load of key ${show(this.key)} has not finished and a synchronous read cannot wait for it: ` +
      "read it again later, or use `get` or `getPromise` to wait."
  }
}

/**
 * A load ran longer than the cache's `loadTimeout`. Its loader was interrupted, its entry
 * removed, and the next `get` starts a fresh load.
 *
 * @since 0.1.0
 * @category errors
 */
export class LoadTimeoutError extends Data.TaggedError("LoadTimeoutError")<{
  /** The key whose load timed out. */
  readonly key: unknown
  /** The timeout, in milliseconds. */
  readonly timeoutMillis: number
}> {
  override get message(): string {
    return `The load of key ${show(this.key)} took longer than ${this.timeoutMillis} ms and was ` +
      "interrupted; retry, or raise `loadTimeout` if the origin is that slow."
  }
}

/**
 * The cache's scope was closed (for example, the runtime that built its layer was disposed).
 * Every call fails with this error from then on.
 *
 * @since 0.1.0
 * @category errors
 */
export class CacheClosedError extends Data.TaggedError("CacheClosedError")<{
  /**
   * The cache's `name` option, when it has one. (Not `name`, which every `Error` has for its
   * class: here `"CacheClosedError"`.)
   */
  readonly cacheName?: string | undefined
}> {
  override get message(): string {
    const which = this.cacheName === undefined ? "The cache" : `The cache ${show(this.cacheName)}`
    return `${which} is closed: its scope ended. Build a new cache, or keep its Layer alive ` +
      "for as long as it is used."
  }
}

/**
 * Any error that ChronoCache itself produces.
 *
 * @since 0.1.0
 * @category errors
 */
export type ChronoCacheError =
  | InvalidOptionsError
  | ReentrantAccessError
  | CircularLoadError
  | LoadPendingError
  | LoadTimeoutError
  | CacheClosedError
