/**
 * A plain reference model of the cache, for the property test (test/property.test.ts).
 *
 * It holds the SPEC's rules in the simplest form that can be read against it: a map from key
 * to entry, the recency order as an array (least recent first), loads as records with a set
 * of waiters, and time as a number of milliseconds since the cache was built. No fibers, no
 * clock, no structures chosen for speed. The property test applies the same program to the
 * model and to a real cache and compares every answer.
 *
 * Rules it encodes (SPEC, "The four guarantees", "Bounds", "Time"):
 * - A `get` of a fresh value is a hit; of a key whose load is in flight, a join; otherwise a
 *   miss that starts a load. A stale value is dropped when a read meets it.
 * - Every waiter of a load gets the load's answer when it ends. A load stores its value only
 *   if its entry is still the one it was started for and still has it as its load (a `set`,
 *   an `invalidate` or a newer load in between wins). Failures are never kept.
 * - A refresh keeps the old value readable, replaces it on success, keeps it on failure; on
 *   an absent key it is a load like `get`'s; over a load in flight it joins it.
 * - A load that runs past `loadTimeout` fails its waiters with a timeout and is removed.
 * - An interrupted waiter only detaches itself; with `abandonedLoads: "interrupt"` a load that
 *   every waiter left is stopped and its pending entry forgotten.
 * - At most `capacity` resolved entries: the least recently used goes first. A resolved entry
 *   with a refresh in flight that expires stays as a pending entry, so that readers join
 *   the refresh; one evicted for size goes, and its refresh then only answers its waiters.
 * - A value is fresh while `now < expiresAt`. The sweeper runs every `sweepInterval` from the
 *   cache's start (only when a time-to-live is set) and removes what has expired; `size`
 *   (and the stats) remove it first too, so they never count what a read would not return.
 */

/** What a load's loader does when the test lets it finish. */
export type Outcome = "success" | "failure" | "defect" | "selfInterrupt"

/** The answer one waiter gets. */
export type Answer =
  | { readonly _tag: "Value"; readonly value: string }
  | { readonly _tag: "Refreshed" }
  | { readonly _tag: "Failure"; readonly load: number }
  | { readonly _tag: "Defect"; readonly load: number }
  | { readonly _tag: "SelfInterrupted"; readonly load: number }
  | { readonly _tag: "Timeout"; readonly key: string }
  | { readonly _tag: "Interrupted" }

/** The options of the cache under test, in milliseconds. */
export interface ModelOptions {
  readonly capacity: number
  /** `undefined`: no load timeout. */
  readonly loadTimeout: number | undefined
  /** `undefined`: values never expire. */
  readonly timeToLive: number | undefined
  readonly sweepInterval: number
  readonly abandonedLoads: "complete" | "interrupt"
}

/** The value that load number `load` of `key` produces. */
export const loadedValue = (key: string, load: number): string => `${key}#${load}`

/** How a load ended, as far as its loader is concerned. */
export type LoadEnd = "completed" | "timedOut" | "abandoned"

export interface ModelLoad {
  readonly id: number
  readonly key: string
  readonly startedAt: number
  readonly isRefresh: boolean
  readonly entry: ModelEntry
  readonly waiters: Set<number>
  end: LoadEnd | undefined
}

interface ModelEntry {
  readonly key: string
  /** The value while resolved; `undefined` while pending. */
  value: string | undefined
  expiresAt: number
  load: ModelLoad | undefined
}

interface Waiter {
  readonly kind: "get" | "refresh"
  readonly load: ModelLoad | undefined
  answer: Answer | undefined
}

export class Model {
  now = 0
  hits = 0
  misses = 0
  joins = 0
  loadSuccesses = 0
  loadTimeouts = 0

  /** Every load ever started, by id (ids count from 0 in start order). */
  readonly loads: Array<ModelLoad> = []
  private readonly index = new Map<string, ModelEntry>()
  /** Resolved entries, least recently used first. */
  private readonly recency: Array<ModelEntry> = []
  private readonly waiters: Array<Waiter> = []
  private nextSweep: number

  constructor(readonly options: ModelOptions) {
    this.nextSweep = options.sweepInterval
  }

  // ---------------------------------------------------------------------------------------
  // Observations

  /** Like the cache's `size`, which first reclaims what has expired. */
  get size(): number {
    this.sweep()
    return this.recency.length
  }

  /** Loads still running, in start order. */
  running(): Array<ModelLoad> {
    return this.loads.filter((load) => load.end === undefined)
  }

  /** The answer of waiter `id`, or `undefined` while it waits. */
  answer(id: number): Answer | undefined {
    return this.waiters[id]!.answer
  }

  get waiterCount(): number {
    return this.waiters.length
  }

  /** Ids of the waiters still waiting, in the order they came. */
  waiting(): Array<number> {
    const ids: Array<number> = []
    this.waiters.forEach((waiter, id) => {
      if (waiter.answer === undefined) ids.push(id)
    })
    return ids
  }

  // ---------------------------------------------------------------------------------------
  // Operations

  /** A `get`; returns the waiter's id (its answer may already be there). */
  get(key: string): number {
    const entry = this.readable(key)
    if (entry !== undefined && entry.value !== undefined) {
      this.hits++
      return this.addWaiter("get", undefined, { _tag: "Value", value: entry.value })
    }
    if (entry !== undefined && entry.load !== undefined) {
      this.hits++
      this.joins++
      return this.addWaiter("get", entry.load, undefined)
    }
    this.misses++
    return this.addWaiter("get", this.startLoad(key, undefined), undefined)
  }

  /** A `refresh`; returns the waiter's id. */
  refresh(key: string): number {
    const entry = this.index.get(key)
    const load = entry === undefined ? this.startLoad(key, undefined) : entry.load ?? this.startLoad(key, entry)
    return this.addWaiter("refresh", load, undefined)
  }

  /** A `getOption`: the fresh value, if any (a read). */
  getOption(key: string): string | undefined {
    return this.readable(key)?.value
  }

  /** A `contains`: a fresh value or a load in flight (not a read). */
  contains(key: string): boolean {
    const entry = this.index.get(key)
    if (entry === undefined) return false
    return entry.load !== undefined || (entry.value !== undefined && this.now < entry.expiresAt)
  }

  set(key: string, value: string): void {
    let entry = this.index.get(key)
    if (entry === undefined || entry.load !== undefined) {
      if (entry !== undefined) this.remove(entry)
      entry = { key, value: undefined, expiresAt: Infinity, load: undefined }
      this.index.set(key, entry)
    }
    this.store(entry, value, true)
  }

  invalidate(key: string): void {
    const entry = this.index.get(key)
    if (entry !== undefined) this.remove(entry)
  }

  invalidateAll(): void {
    for (const entry of this.index.values()) entry.value = undefined
    this.index.clear()
    this.recency.length = 0
  }

  /** The loader of running load `id` finishes with `outcome`. */
  complete(id: number, outcome: Outcome): void {
    const load = this.loads[id]!
    if (load.end !== undefined) throw new Error(`load ${id} is not running`)
    load.end = "completed"
    const owned = this.owns(load)
    if (owned) load.entry.load = undefined
    if (outcome === "success") {
      this.loadSuccesses++
      const value = loadedValue(load.key, load.id)
      if (owned) this.store(load.entry, value, !load.isRefresh)
      this.answerAll(load, (kind) => kind === "get" ? { _tag: "Value", value } : { _tag: "Refreshed" })
      return
    }
    if (owned) this.removeFailed(load)
    const answer: Answer = outcome === "failure"
      ? { _tag: "Failure", load: id }
      : outcome === "defect"
      ? { _tag: "Defect", load: id }
      : { _tag: "SelfInterrupted", load: id }
    this.answerAll(load, () => answer)
  }

  /** Waiter `id` is interrupted. */
  interrupt(id: number): void {
    const waiter = this.waiters[id]!
    if (waiter.answer !== undefined) throw new Error(`waiter ${id} is not waiting`)
    waiter.answer = { _tag: "Interrupted" }
    const load = waiter.load!
    load.waiters.delete(id)
    if (load.waiters.size > 0 || this.options.abandonedLoads !== "interrupt") return
    load.end = "abandoned"
    const entry = load.entry
    if (entry.load === load) {
      entry.load = undefined
      if (entry.value === undefined && this.index.get(entry.key) === entry) this.index.delete(entry.key)
    }
  }

  /** The clock moves on by `millis`: load timeouts and sweeps fall due in time order. */
  advance(millis: number): void {
    const target = this.now + millis
    for (;;) {
      let next = Infinity
      for (const load of this.running()) next = Math.min(next, this.deadline(load))
      if (this.options.timeToLive !== undefined) next = Math.min(next, this.nextSweep)
      if (next > target) break
      this.now = next
      for (const load of this.running()) {
        if (this.deadline(load) === next) this.timeOut(load)
      }
      if (this.options.timeToLive !== undefined && this.nextSweep === next) {
        this.sweep()
        this.nextSweep += this.options.sweepInterval
      }
    }
    this.now = target
  }

  // ---------------------------------------------------------------------------------------
  // Rules

  /**
   * The entry of `key` as a read finds it: a fresh resolved entry (touched), or a pending
   * one, or `undefined`. A stale value met here is dropped.
   */
  private readable(key: string): ModelEntry | undefined {
    const entry = this.index.get(key)
    if (entry === undefined) return undefined
    if (entry.value !== undefined) {
      if (this.now < entry.expiresAt) {
        this.touch(entry)
        return entry
      }
      this.drop(entry)
    }
    return this.index.get(key) === entry && entry.load !== undefined ? entry : undefined
  }

  private startLoad(key: string, existing: ModelEntry | undefined): ModelLoad {
    const entry: ModelEntry = existing ?? { key, value: undefined, expiresAt: Infinity, load: undefined }
    const load: ModelLoad = {
      id: this.loads.length,
      key,
      startedAt: this.now,
      isRefresh: existing !== undefined,
      entry,
      waiters: new Set(),
      end: undefined
    }
    this.loads.push(load)
    entry.load = load
    if (existing === undefined) this.index.set(key, entry)
    return load
  }

  private addWaiter(kind: "get" | "refresh", load: ModelLoad | undefined, answer: Answer | undefined): number {
    const id = this.waiters.length
    this.waiters.push({ kind, load, answer })
    load?.waiters.add(id)
    return id
  }

  private answerAll(load: ModelLoad, answer: (kind: "get" | "refresh") => Answer): void {
    for (const id of load.waiters) {
      const waiter = this.waiters[id]!
      waiter.answer = answer(waiter.kind)
    }
    load.waiters.clear()
  }

  /** Whether `load` still owns its entry: the entry is in the index and has it as its load. */
  private owns(load: ModelLoad): boolean {
    return this.index.get(load.key) === load.entry && load.entry.load === load
  }

  /** A failed or timed-out load that owned its entry: a refresh keeps the old value. */
  private removeFailed(load: ModelLoad): void {
    if (load.isRefresh && load.entry.value !== undefined) return
    this.remove(load.entry)
  }

  private deadline(load: ModelLoad): number {
    return this.options.loadTimeout === undefined ? Infinity : load.startedAt + this.options.loadTimeout
  }

  private timeOut(load: ModelLoad): void {
    load.end = "timedOut"
    this.loadTimeouts++
    if (this.owns(load)) {
      load.entry.load = undefined
      this.removeFailed(load)
    }
    this.answerAll(load, () => ({ _tag: "Timeout", key: load.key }))
  }

  private store(entry: ModelEntry, value: string, fresh: boolean): void {
    const ttl = this.options.timeToLive ?? Infinity
    if (!(ttl > 0)) {
      this.remove(entry)
      return
    }
    const linked = entry.value !== undefined
    entry.value = value
    entry.expiresAt = this.now + ttl
    if (!linked) this.recency.push(entry)
    else if (fresh) this.touch(entry)
    while (this.recency.length > this.options.capacity) this.remove(this.recency[0]!)
  }

  private touch(entry: ModelEntry): void {
    this.unlink(entry)
    this.recency.push(entry)
  }

  private unlink(entry: ModelEntry): void {
    const at = this.recency.indexOf(entry)
    if (at >= 0) this.recency.splice(at, 1)
  }

  private remove(entry: ModelEntry): void {
    if (this.index.get(entry.key) === entry) this.index.delete(entry.key)
    this.unlink(entry)
    entry.value = undefined
  }

  /** Drops an expired entry; with a refresh in flight it turns pending. */
  private drop(entry: ModelEntry): void {
    if (entry.load === undefined) {
      this.remove(entry)
      return
    }
    this.unlink(entry)
    entry.value = undefined
  }

  private sweep(): void {
    for (const entry of [...this.recency]) {
      if (entry.expiresAt <= this.now) this.drop(entry)
    }
  }
}
