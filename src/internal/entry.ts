/**
 * Entry and load records.
 *
 * Implementation notes
 *
 * State. An `Entry` is the cache's record for one key in the index. It is *pending* while it
 * has no result yet (`state === PENDING`, `load` set), and *resolved* once it holds a result
 * (`state === RESOLVED`): a success, or a failure that `timeToLive` chose to keep. A resolved
 * entry may carry a `load` too: a refresh in flight, whose result replaces the old one.
 * A `Load` is one run of the loader: its `Deferred`, its fiber, how many callers wait for
 * it, and which other loads it is waiting for (the wait-for graph, see waitGraph.ts).
 *
 * Ownership. The entry object itself is the ownership token of the index: a load, a sweep
 * or a weak-cleanup notice may only change the index for `key` if `index.get(key)` is still
 * the very entry it holds. The load object is the token of the entry's loading slot: a load
 * only writes its result into the entry if `entry.load` is still that load. A `set`, an
 * `invalidate` or a newer load replaces these objects, so a stale writer sees the
 * difference and backs off.
 *
 * Who writes. Only synchronous code in cache.ts and the rooms it calls (no yield happens
 * while an entry is being changed), so every change below is atomic with respect to fibers.
 *
 * Fields, one line each:
 * - `key`, `hash`: the key, and its structural hash (only for `Equal` keys).
 * - `state`: PENDING or RESOLVED.
 * - `value`: the stored value while resolved with a success held strongly.
 * - `exit`: a kept failure; or, for a strong success, its `Exit`, made on the first read
 *   that needs one (`get` run by the runtime, `getSyncExit`) and then returned as-is. Never
 *   a success for a weak value, which it would pin.
 * - `option`: `Option.some(value)`, made on the first `getOptionSync` hit and kept, so
 *   later such hits allocate nothing.
 * - `weak`: the weak cell of a weakly held value (weak.ts).
 * - `load`: the load in flight for this entry (first load or refresh), if any.
 * - `prev`, `next`: links of the recency list (lru.ts); only resolved entries are linked.
 * - `expiresAt`: when the result expires (Clock millis; `Infinity` for never). Written only
 *   by caches with a time limit; elsewhere it stays 0 and is never read.
 * - `lastAccess`: Clock millis of the last read or write (for time-to-idle); likewise.
 * - `heapIndex`: position in the expiry heap (expiry.ts), or -1.
 */
import type { Deferred, Exit, Fiber, Option } from "effect"
import type { WeakCell } from "./weak.js"

/** @internal */
export const PENDING = 0
/** @internal */
export const RESOLVED = 1

/** @internal */
export class Entry<K = unknown, V = unknown, E = unknown> {
  state: number = PENDING
  value: V | undefined = undefined
  exit: Exit.Exit<V, E> | undefined = undefined
  option: Option.Option<V> | undefined = undefined
  weak: WeakCell | undefined = undefined
  load: Load | undefined = undefined
  prev: Entry<K, V, E> | undefined = undefined
  next: Entry<K, V, E> | undefined = undefined
  expiresAt = 0
  lastAccess = 0
  heapIndex = -1
  constructor(readonly key: K, readonly hash: number) {}
}

/** @internal */
export class Load {
  /** The fiber running the loader, once forked. */
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  /** The `loadTimeout` timer fiber, while it runs. */
  timer: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  /**
   * What every waiter awaits; completed exactly once, when the load ends (from the fiber's
   * exit observer, the timeout, or the close). Made only when a first caller has to wait,
   * so a load that ends within its fork (a lookup that never suspends) makes none.
   */
  deferred: Deferred.Deferred<unknown, unknown> | undefined = undefined
  /**
   * Callbacks of `getPromise` callers waiting outside any fiber; called with the answer
   * right after `deferred` is completed.
   */
  promises: Array<(answer: Exit.Exit<unknown, unknown>) => void> | undefined = undefined
  /** Callers currently waiting on `deferred` or in `promises`. */
  waiters = 0
  /** The answer given to the waiters, once the load has ended. */
  result: Exit.Exit<unknown, unknown> | undefined = undefined
  /**
   * Set when a synchronous read answered `LoadPendingError` for this load, promising that it
   * goes on: it is then never abandoned, whoever else joins and leaves.
   */
  keep = false
  /** Set when every waiter left and `abandonedLoads` is `"interrupt"`. */
  abandoned = false
  /** Set when `loadTimeout` passed before the loader finished. */
  timedOut = false
  /** Loads this load's fibers are waiting for right now (usually none or one). */
  waitsFor: Array<Load> | undefined = undefined
  constructor(
    /** The key being loaded (for cycle reports). */
    readonly key: unknown,
    /** The entry the result is for. */
    readonly entry: Entry,
    /** Clock millis when the load started. */
    readonly startedAt: number,
    /** Whether this is a refresh of a resolved entry (the old value stays readable). */
    readonly isRefresh: boolean
  ) {}
}
