/**
 * The cache object: wires the index, the recency list, the expiry heap, loads, weak values
 * and the synchronous guard into the public members.
 *
 * Implementation notes
 *
 * State (one cache object; every field is written only here, in synchronous sections):
 * - `index`: key -> entry (keyIndex.ts). Holds pending and resolved entries.
 * - `lru`: resolved entries in recency order (lru.ts); its size is the cache's size.
 * - `heap`: resolved entries with a finite expiry, soonest first (expiry.ts).
 * - `pending`: every load in flight, so that closing the cache can answer all waiters.
 * - `counters`: the stats (stats.ts).
 * - `weak`: weak-value bookkeeping (weak.ts), when `weakValues` is on.
 * - `closed`: set once, when the cache's scope closes.
 *
 * Lifecycle of an entry: a miss puts a pending entry with a fresh `Load` in the index and
 * forks the load as a fiber of the cache (on the runtime captured at build time; closing the
 * cache interrupts it). A caller that has to wait counts itself on the load and awaits its
 * `Deferred` (made only then: a lookup that never suspends has finished within its fork and
 * needs none); a `getPromise` caller outside any fiber registers a callback instead. With
 * `loadTimeout`, a timer fiber answers the waiters when it passes. The fiber's exit observer
 * (`onLoadExit`) runs for every kind of `Exit`: it asks the time-to-live function (user
 * code, before anything changes), writes the result into the entry if the entry and its
 * loading slot are still the ones this load created, evicts beyond `capacity`, and only
 * then answers the waiters (`answer`), so a waiter that retries the moment it sees a
 * failure finds the failed entry already gone and starts a fresh load.
 *
 * No section that changes state yields: JavaScript runs one fiber step at a time, so every
 * method body below is atomic with respect to other fibers. Whatever crosses a yield (a
 * waiter resuming, a load finishing) re-checks its tokens: `index.get(key) === entry` and
 * `entry.load === load` (see entry.ts).
 *
 * Uninterruptible regions: none are needed. The exit observer runs outside the fiber's
 * interruptible evaluation, so no interruption can cut a load's bookkeeping in half.
 *
 * Tolerated races:
 * - A load ends after its entry was invalidated, replaced by `set`, or evicted: its waiters
 *   get its result, the index is left alone.
 * - A waiter is interrupted just as its load completes: the load has its result, so the
 *   detach finds nothing to abandon.
 * - A caller chose a load, then yielded before counting itself, and meanwhile every counted
 *   waiter left and the load was abandoned: the caller sees `abandoned` and reads again.
 * - A waiter is interrupted after counting itself but before its interrupt handler is in
 *   place: it stays counted, so the load completes instead of being abandoned (harmless).
 * - The clock steps backwards: entries live longer than planned; nothing crashes.
 */
import {
  Cause,
  type Clock,
  Deferred,
  Duration,
  Effect,
  Exit,
  type Fiber,
  Fiber as FiberNS,
  FiberId,
  Option,
  Queue,
  Runtime
} from "effect"
import {
  CacheClosedError,
  type ChronoCacheError,
  CircularLoadError,
  InvalidOptionsError,
  LoadPendingError,
  LoadTimeoutError,
  ReentrantAccessError
} from "../CacheError.js"
import type { CacheStats } from "../CacheStats.js"
import type { ChronoCache, PromiseOptions, TypeId as TypeIdType } from "../ChronoCache.js"
import { Entry, Load, PENDING, RESOLVED } from "./entry.js"
import { ExpiryHeap } from "./expiry.js"
import { GetEffect, MISS } from "./get.js"
import { hashOf, KeyIndex } from "./keyIndex.js"
import { answerOf, loadEffect } from "./load.js"
import { Lru } from "./lru.js"
import { type Config, millisOfUserDuration } from "./options.js"
import { Counters } from "./stats.js"
import { runningInside } from "./sync.js"
import { addEdge, currentLoad, findCycle, removeEdge } from "./waitGraph.js"
import { isWeakable, type WeakCell, type WeakValues } from "./weak.js"

/** @internal */
export const TypeId: TypeIdType = Symbol.for("chronocache/ChronoCache") as TypeIdType

type Answer<V, E> = Exit.Exit<V, E | ChronoCacheError>
type RunFork<R> = <A, E>(effect: Effect.Effect<A, E, R>) => Fiber.RuntimeFiber<A, E>

/** How far from the cold end eviction looks for a dead weak entry to take first. */
const DEAD_WINDOW = 16

const EXPIRED = 0
const SIZE = 1
const COLLECTED = 2

/** @internal */
export class CacheImpl<K, V, E, R> implements ChronoCache<K, V, E> {
  readonly [TypeId]: TypeIdType = TypeId
  private readonly index = new KeyIndex<K, V, E>()
  private readonly lru = new Lru<K, V, E>()
  private readonly heap = new ExpiryHeap<K, V, E>()
  private readonly pending = new Set<Load>()
  private readonly counters = new Counters()
  private readonly timed: boolean
  private closed = false
  /** Where the periodic weak reconciliation goes on from (see `reconcileStep`). */
  private reconcileCursor: Entry<K, V, E> | undefined = undefined
  /** Depth of user callbacks (time-to-live functions) running inside a write. */
  private inCallback = 0
  /**
   * Forks a fiber of the cache (a load or its timer) on the cache's runtime. These fibers
   * are not in the fiber set of the background fibers: closing the cache interrupts them
   * without waiting, so a lookup stuck in an uninterruptible region cannot hold up the close.
   */
  private readonly runFork: RunFork<R>
  /** Annotates the logs of the cache's fibers with its name. */
  readonly annotate: <A, E2, R2>(self: Effect.Effect<A, E2, R2>) => Effect.Effect<A, E2, R2>

  constructor(
    private readonly config: Config<K, V, E, R>,
    /** Identity of this cache in the `cacheOwners` FiberRef of its own fibers. */
    private readonly owner: object,
    private readonly clock: Clock.Clock,
    private readonly runtime: Runtime.Runtime<R>,
    private readonly weak: WeakValues | undefined
  ) {
    this.runFork = Runtime.runFork(runtime)
    this.annotate = Effect.annotateLogs({ cache: config.name ?? "ChronoCache" })
    this.timed = config.timed
  }

  // ---------------------------------------------------------------------------------------
  // Reads

  get(key: K): Effect.Effect<V, E | ChronoCacheError> {
    return new GetEffect(this, key)
  }

  /**
   * The value of a fresh, successful entry for `key` (counted as a hit and touched), or
   * `MISS`. Never loads, never waits, never allocates for strong values.
   */
  hitValue(key: K): V | typeof MISS {
    if (this.closed || (this.weak !== undefined && this.weak.overflowed)) return MISS
    const entry = this.index.get(key)
    if (entry === undefined || !this.readSuccess(entry)) return MISS
    this.counters.hits++
    return this.valueOf(entry)
  }

  /**
   * The one path of a read that may load: a fresh entry (a hit, touched and counted), or
   * the load to wait for: the one in flight (a join, counted as a hit), or a new one (a
   * miss). A stale entry whose refresh is in flight was demoted to pending by `readFresh`,
   * so its readers join the refresh.
   */
  private read(key: K): Entry<K, V, E> | Load {
    this.maintain()
    const entry = this.index.get(key)
    if (entry !== undefined) {
      if (entry.state === RESOLVED && this.readFresh(entry)) {
        this.counters.hits++
        return entry
      }
      if (entry.load !== undefined && entry.state === PENDING) {
        this.counters.hits++
        this.counters.joins++
        return entry.load
      }
    }
    this.counters.misses++
    return this.startLoad(key, undefined)
  }

  getNow(key: K): Effect.Effect<V, E | ChronoCacheError> {
    if (this.closed) return Effect.fail(this.closedError())
    const missesBefore = this.counters.misses
    const found = this.read(key)
    if (found instanceof Entry) return this.answerOf(found)
    const missed = this.counters.misses !== missesBefore
    return this.awaitLoad(found, () => {
      // The load was abandoned under this caller, who reads again: count the read once.
      if (missed) {
        this.counters.misses--
      } else {
        this.counters.hits--
        this.counters.joins--
      }
      return this.getNow(key)
    })
  }

  getOption(key: K): Effect.Effect<Option.Option<V>, ChronoCacheError> {
    return Effect.suspend(() => this.closed ? Effect.fail(this.closedError()) : Effect.succeed(this.peek(key)))
  }

  getOptionSync(key: K): Option.Option<V> {
    return this.closed ? Option.none() : this.peek(key)
  }

  /** A fresh success for `key`, counted as a read for recency and idle time. */
  private peek(key: K): Option.Option<V> {
    this.maintain()
    const entry = this.index.get(key)
    if (entry === undefined || !this.readSuccess(entry)) return Option.none()
    if (entry.weak !== undefined) return Option.some(this.valueOf(entry))
    return entry.option ??= Option.some(entry.value as V)
  }

  contains(key: K): Effect.Effect<boolean, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.maintain()
      const entry = this.index.get(key)
      if (entry === undefined) return Effect.succeed(false)
      if (entry.load !== undefined) return Effect.succeed(true)
      const alive = entry.weak === undefined || entry.weak.ref.deref() !== undefined
      return Effect.succeed(alive && this.isFresh(entry, this.now()))
    })
  }

  /**
   * Whether a resolved entry is still usable, touching it as a read if so. A stale entry
   * (expired, or its weak value collected) is removed, or demoted to pending when a refresh
   * of it is in flight. For a weak entry found alive, the value stays reachable until the
   * current job ends, so `valueOf` right after sees it too.
   */
  private readFresh(entry: Entry<K, V, E>): boolean {
    if (this.timed) {
      const now = this.now()
      if (!this.isFresh(entry, now)) {
        this.drop(entry, EXPIRED)
        return false
      }
      entry.lastAccess = now
    }
    if (entry.weak !== undefined && entry.weak.ref.deref() === undefined) {
      this.drop(entry, COLLECTED)
      return false
    }
    this.lru.touch(entry)
    return true
  }

  /** Whether `entry` holds a fresh success, touching it as a read if it is fresh. */
  private readSuccess(entry: Entry<K, V, E>): boolean {
    return entry.state === RESOLVED && this.readFresh(entry) && entry.exit?._tag !== "Failure"
  }

  /** The value of a fresh, successful entry. */
  private valueOf(entry: Entry<K, V, E>): V {
    return entry.weak === undefined ? entry.value as V : entry.weak.ref.deref() as V
  }

  /**
   * The stored result of a fresh entry as an `Exit`: its kept failure, or its success,
   * made once and kept for strong values (never for weak ones, which it would pin).
   */
  private answerOf(entry: Entry<K, V, E>): Answer<V, E> {
    const exit = entry.exit
    if (exit !== undefined) return exit
    if (entry.weak !== undefined) return Exit.succeed(this.valueOf(entry))
    return entry.exit = Exit.succeed(entry.value as V)
  }

  private isFresh(entry: Entry<K, V, E>, now: number): boolean {
    if (entry.state !== RESOLVED) return false
    if (!this.timed) return true
    return now < entry.expiresAt && now < entry.lastAccess + this.config.timeToIdleMillis
  }

  // ---------------------------------------------------------------------------------------
  // Loads

  /** Starts a load for `key`: into a new pending entry, or as a refresh of `existing`. */
  private startLoad(key: K, existing: Entry<K, V, E> | undefined): Load {
    const entry = existing ?? new Entry<K, V, E>(key, hashOf(key))
    const load = new Load(key, entry as Entry, this.now(), existing !== undefined)
    entry.load = load
    if (existing === undefined) this.index.set(entry)
    this.pending.add(load)
    // The fork runs the lookup at once, up to its first suspension; a lookup that never
    // suspends has finished when `runFork` returns, and the observer below runs at once.
    const fiber = this.runFork(loadEffect(this.config, key, load))
    load.fiber = fiber
    fiber.addObserver((exit) => this.onLoadExit(entry, load, exit))
    const timeout = this.config.loadTimeout
    if (timeout !== undefined && load.result === undefined) {
      // The timer is a fiber of its own, not a race inside the load: the lookup keeps its
      // fiber (so a lookup that never suspends still answers a synchronous read), and a
      // lookup stuck in an uninterruptible region cannot hold its waiters past the timeout.
      load.timer = this.runFork(
        Effect.sleep(timeout).pipe(
          Effect.zipRight(Effect.suspend(() => this.onTimeout(entry, load, timeout))),
          this.annotate
        )
      )
    }
    return load
  }

  private onLoadExit(entry: Entry<K, V, E>, load: Load, exit: Exit.Exit<V, E>): void {
    load.waitsFor = undefined
    load.timer?.unsafeInterruptAsFork(FiberId.none)
    if (load.result !== undefined) return // answered already: timed out, or the cache closed
    let answer: Answer<V, E> = answerOf(exit, entry.key)
    if (answer._tag === "Success" && this.weak !== undefined && !isWeakable(answer.value)) {
      answer = Exit.fail(
        new InvalidOptionsError({
          option: "weakValues",
          reason: `the lookup of key ${String(entry.key)} produced a ${typeof answer
            .value}; weak values must be objects`
        })
      )
    }
    // The time-to-live function is user code: it runs before anything is changed, so that
    // whatever it does to the cache meets a consistent state. Failures the cache made itself
    // (a weak primitive, a self-interruption) are never kept.
    const ttl = answer === exit ? this.timeToLiveOf(exit, entry.key) : 0
    if (answer._tag === "Success") {
      this.counters.loadSuccesses++
    } else if (!load.abandoned) {
      // A load interrupted because every waiter left is not a failure of the lookup: not
      // counted, not logged. Others are logged once, off the hot path.
      this.counters.loadFailures++
      {
        this.runFork(
          Effect.logWarning("ChronoCache: a load failed", answer.cause).pipe(
            Effect.annotateLogs({ key: String(entry.key) }),
            this.annotate
          )
        )
      }
    }
    this.finish(entry, load, answer, ttl)
  }

  private onTimeout(entry: Entry<K, V, E>, load: Load, timeout: Duration.Duration): Effect.Effect<void> {
    if (load.result !== undefined) return Effect.void
    load.timedOut = true
    load.fiber?.unsafeInterruptAsFork(FiberId.none)
    this.counters.loadFailures++
    this.counters.loadTimeouts++
    const error = new LoadTimeoutError({ key: entry.key, timeoutMillis: Duration.toMillis(timeout) })
    this.finish(entry, load, Exit.fail(error), 0)
    return Effect.logWarning("ChronoCache: a load timed out and was interrupted").pipe(
      Effect.annotateLogs({ key: String(entry.key), timeoutMillis: Duration.toMillis(timeout) })
    )
  }

  /**
   * Ends `load` with `answer`: writes it into the entry if the entry and its loading slot
   * are still the ones the load created, then answers the waiters.
   */
  private finish(entry: Entry<K, V, E>, load: Load, answer: Answer<V, E>, ttl: number): void {
    this.pending.delete(load)
    const now = this.now()
    this.counters.totalLoadTimeMillis += Math.max(0, now - load.startedAt)
    load.result = answer
    if (entry.load === load && this.index.get(entry.key) === entry) {
      entry.load = undefined
      if (answer._tag === "Failure" && load.isRefresh && entry.state === RESOLVED) {
        this.counters.refreshFailures++ // the old value stays
      } else {
        this.store(entry, answer, ttl, now, !load.isRefresh)
      }
    }
    this.answer(load, answer)
  }

  /** Hands `answer` to every waiter of `load`, fibers and promises alike, at once. */
  private answer(load: Load, answer: Answer<V, E>): void {
    load.result = answer
    if (load.deferred !== undefined) Deferred.unsafeDone(load.deferred, answer)
    const promises = load.promises
    if (promises !== undefined) {
      load.promises = undefined
      for (const settle of promises) settle(answer)
    }
  }

  /**
   * Millis that a result lives, from the options. A time-to-live function is user code:
   * synchronous reads it makes are refused with `ReentrantAccessError` (see `getSyncExit`).
   */
  private timeToLiveOf(exit: Exit.Exit<V, E>, key: K): number {
    const config = this.config
    if (config.timeToLiveFn === undefined) return exit._tag === "Success" ? config.timeToLiveMillis : 0
    this.inCallback++
    try {
      return millisOfUserDuration(config.timeToLiveFn(exit, key))
    } catch (defect) {
      // A throwing time-to-live function keeps nothing; it must not break the write.
      this.runFork(
        Effect.logWarning("ChronoCache: the timeToLive function threw; the result is not kept", Cause.die(defect))
          .pipe(Effect.annotateLogs({ key: String(key) }), this.annotate)
      )
      return 0
    } finally {
      this.inCallback--
    }
  }

  /**
   * Waits for `load`. A waiter that is itself a load records the wait, and is refused with
   * `CircularLoadError` when the wait would close a cycle. An interrupted waiter detaches
   * only itself.
   */
  private awaitLoad(
    load: Load,
    retry: () => Effect.Effect<unknown, E | ChronoCacheError>
  ): Effect.Effect<V, E | ChronoCacheError> {
    const done = load.result
    if (done !== undefined && !load.abandoned) return done as Answer<V, E>
    return Effect.withFiberRuntime((fiber) => {
      // Re-checked here, since the fiber may have yielded after it chose this load: every
      // counted waiter may have left it in that gap, so that it was abandoned (and perhaps
      // already ended by the interruption): this caller, who never left, then starts over
      // instead of inheriting it. Or the load may have ended (a Deferred made after the end
      // would never be completed).
      if (load.abandoned) return retry() as Effect.Effect<V, E | ChronoCacheError>
      const result = load.result
      if (result !== undefined) return result as Answer<V, E>
      const me = fiber.getFiberRef(currentLoad)
      if (me !== undefined) {
        const cycle = findCycle(me, load)
        if (cycle !== undefined) return Effect.fail(new CircularLoadError({ keys: cycle }))
      }
      load.waiters++
      const deferred = (load.deferred ??= Deferred.unsafeMake(FiberId.none)) as Deferred.Deferred<
        V,
        E | ChronoCacheError
      >
      const wait = Effect.onInterrupt(Deferred.await(deferred), () => Effect.sync(() => this.detach(load)))
      if (me === undefined) return wait
      addEdge(me, load)
      return Effect.ensuring(wait, Effect.sync(() => removeEdge(me, load)))
    })
  }

  private detach(load: Load): void {
    load.waiters--
    if (load.waiters > 0 || load.result !== undefined || load.keep || this.config.abandonedLoads !== "interrupt") {
      return
    }
    // Every waiter left a load nobody wants any more: stop it and forget its entry.
    load.abandoned = true
    const entry = load.entry as Entry<K, V, E>
    if (entry.load === load) {
      entry.load = undefined
      if (entry.state === PENDING) this.index.delete(entry)
    }
    load.fiber?.unsafeInterruptAsFork(FiberId.none)
  }

  // ---------------------------------------------------------------------------------------
  // Writes

  /**
   * Writes a result that lives `ttl` millis into `entry` and links it, or removes the entry
   * when `ttl` is zero (or time-to-idle is). `fresh` stamps the entry as just accessed (a
   * new load or a write; not a refresh, which replaces a value nobody just read).
   */
  private store(entry: Entry<K, V, E>, answer: Answer<V, E>, ttl: number, now: number, fresh: boolean) {
    if (!(ttl > 0) || this.config.timeToIdleMillis <= 0) {
      this.remove(entry)
      return
    }
    this.releaseWeak(entry)
    entry.option = undefined
    if (answer._tag === "Failure") {
      entry.value = undefined
      entry.exit = answer as Exit.Exit<V, E>
    } else if (this.weak !== undefined) {
      entry.value = undefined
      entry.exit = undefined
      entry.weak = this.weak.hold(answer.value as object, entry as Entry)
    } else {
      entry.value = answer.value
      entry.exit = undefined
    }
    // Untimed caches never write the time fields, so that they keep small-integer values and
    // an entry carries no boxed number.
    if (this.timed) {
      entry.expiresAt = ttl === Infinity ? Infinity : now + ttl
      if (fresh || entry.state !== RESOLVED) entry.lastAccess = now
    }
    entry.state = RESOLVED
    if (!this.lru.isLinked(entry)) this.lru.push(entry)
    else if (fresh) this.lru.touch(entry)
    if (this.timed && entry.expiresAt !== Infinity) this.heap.upsert(entry)
    else this.heap.remove(entry)
    this.evictOverflow()
  }

  set(key: K, value: V): Effect.Effect<void, ChronoCacheError> {
    return Effect.suspend((): Effect.Effect<void, ChronoCacheError> => {
      if (this.closed) return Effect.fail(this.closedError())
      this.maintain()
      if (this.weak !== undefined && !isWeakable(value)) {
        return Effect.fail(
          new InvalidOptionsError({ option: "weakValues", reason: `set of key ${String(key)} with a ${typeof value}` })
        )
      }
      const exit = Exit.succeed(value)
      const ttl = this.timeToLiveOf(exit, key) // user code first, before anything changes
      if (this.closed) return Effect.fail(this.closedError())
      let entry = this.index.get(key)
      if (entry === undefined || entry.load !== undefined) {
        // A load in flight for this key loses to the set: a new entry takes the key, so the
        // load's ownership check fails and its result reaches only its own waiters.
        if (entry !== undefined) this.remove(entry)
        entry = new Entry<K, V, E>(key, hashOf(key))
        this.index.set(entry)
      }
      this.store(entry, exit, ttl, this.now(), true)
      return Effect.void
    })
  }

  refresh(key: K): Effect.Effect<void, E | ChronoCacheError> {
    const refresh: Effect.Effect<void, E | ChronoCacheError> = Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.maintain()
      const entry = this.index.get(key)
      // A load already in flight (first load or refresh) is joined rather than doubled.
      const load = entry === undefined
        ? this.startLoad(key, undefined)
        : entry.load ?? this.startLoad(key, entry)
      return Effect.asVoid(this.awaitLoad(load, () => refresh))
    })
    return refresh
  }

  invalidate(key: K): Effect.Effect<void, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.maintain()
      const entry = this.index.get(key)
      if (entry !== undefined) this.remove(entry)
      return Effect.void
    })
  }

  get invalidateAll(): Effect.Effect<void, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.clear()
      return Effect.void
    })
  }

  get size(): Effect.Effect<number, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.maintain()
      this.reclaimExpired()
      return Effect.succeed(this.lru.size)
    })
  }

  get cacheStats(): Effect.Effect<CacheStats, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.maintain()
      this.reclaimExpired()
      return Effect.succeed(this.statsNow())
    })
  }

  /** @internal */
  statsNow(): CacheStats {
    const weak = this.weak
    return this.counters.snapshot(this.lru.size, this.pending.size, {
      cleanupQueueDepth: weak === undefined ? 0 : weak.queueDepth(),
      cleanupOverflows: weak === undefined ? 0 : weak.overflows,
      reconciliations: weak === undefined ? 0 : weak.reconciliations
    })
  }

  // ---------------------------------------------------------------------------------------
  // Removal and eviction

  /** Removes `entry` from every structure (a no-op for structures it is not in). */
  private remove(entry: Entry<K, V, E>): void {
    this.index.delete(entry)
    this.unlink(entry)
  }

  /** Takes `entry` out of the recency list and the expiry heap and forgets its result. */
  private unlink(entry: Entry<K, V, E>): void {
    if (this.lru.isLinked(entry)) this.lru.remove(entry)
    this.heap.remove(entry)
    this.releaseWeak(entry)
    entry.value = undefined
    entry.exit = undefined
    entry.option = undefined
  }

  /** Forgets the weak cell of `entry`, if any, so that no notice comes for it. */
  private releaseWeak(entry: Entry<K, V, E>): void {
    if (entry.weak === undefined) return
    this.weak!.release(entry.weak)
    entry.weak = undefined
  }

  /**
   * Drops a resolved entry: evicted for size, expired, or its value collected, counting the
   * cause. A stale entry (expired or collected) with a refresh in flight stays, demoted to
   * pending, so that readers join the refresh. An entry evicted for size goes whatever runs
   * for it, as under `invalidate`: a refresh in flight then answers its own waiters but
   * cannot bring the entry back ahead of the ones that outlived it.
   */
  private drop(entry: Entry<K, V, E>, cause: number): void {
    if (cause === EXPIRED) this.counters.evictedExpired++
    else if (cause === COLLECTED) this.counters.evictedCollected++
    else this.counters.evictedSize++
    if (entry.load === undefined || cause === SIZE) {
      this.remove(entry)
    } else {
      this.unlink(entry)
      entry.state = PENDING
    }
  }

  /** Evicts from the cold end until `capacity` holds, dead weak entries first. */
  private evictOverflow(): void {
    const lru = this.lru
    if (lru.size <= this.config.capacity) return
    if (this.weak !== undefined) this.drainNotices()
    while (lru.size > this.config.capacity) {
      let victim = lru.tail!
      let dead = false
      if (this.weak !== undefined) {
        // A dead entry near the cold end goes before the live tail. The look is bounded, so
        // eviction stays O(1); dead entries further in are found by notices, reads, and
        // reconciliation.
        let seen = 0
        for (let entry: Entry<K, V, E> | undefined = victim; entry !== undefined && seen < DEAD_WINDOW; seen++) {
          if (entry.weak !== undefined && entry.weak.ref.deref() === undefined) {
            victim = entry
            dead = true
            break
          }
          entry = entry.prev
        }
      }
      this.drop(victim, dead ? COLLECTED : SIZE)
    }
  }

  private clear(): void {
    for (const entry of this.index.values()) {
      this.releaseWeak(entry)
      entry.value = undefined
      entry.exit = undefined
      entry.option = undefined
      entry.prev = undefined
      entry.next = undefined
      entry.heapIndex = -1
    }
    this.index.clear()
    this.lru.clear()
    this.heap.clear()
  }

  // ---------------------------------------------------------------------------------------
  // Background work: the sweeper and weak cleanup

  /** Reclaims expired entries (soonest first, then idle from the cold end) and dead weak ones. */
  sweep(): void {
    if (this.closed) return
    this.reclaimExpired()
    if (this.weak !== undefined) this.reconcileStep()
  }

  /**
   * Removes the entries whose time has passed: soonest first from the heap, then idle ones
   * from the cold end. Costs O(k log n) for k expired entries, nothing when none is due; run
   * by the sweeper, and before `size` and `cacheStats` report, so that they never count an
   * entry that a read would not return.
   */
  private reclaimExpired(): void {
    if (!this.timed) return
    const now = this.now()
    for (let top = this.heap.peek(); top !== undefined && top.expiresAt <= now; top = this.heap.peek()) {
      this.drop(top, EXPIRED)
    }
    const idle = this.config.timeToIdleMillis
    if (idle !== Infinity) {
      for (let tail = this.lru.tail; tail !== undefined && tail.lastAccess + idle <= now; tail = this.lru.tail) {
        this.drop(tail, EXPIRED)
      }
    }
  }

  /** Handles collected-value notices taken from the cleanup queue. */
  collectNotices(cells: Iterable<WeakCell>): void {
    if (this.closed) return
    for (const cell of cells) {
      const entry = cell.entry as Entry<K, V, E>
      if (entry.weak === cell && this.index.get(entry.key) === entry && cell.ref.deref() === undefined) {
        this.drop(entry, COLLECTED)
      }
    }
  }

  /** Takes every queued notice now, and reconciles if some were lost to a full queue. */
  private drainNotices(): void {
    const weak = this.weak!
    if (weak.queueDepth() > 0) this.collectNotices(Effect.runSync(Queue.takeAll(weak.queue)))
    if (weak.overflowed) this.reconcile()
  }

  /**
   * The periodic reconciliation, spread over sweeps: each sweep checks the next slice of the
   * recency list (from the cold end towards the hot one, at least 4,096 entries or a
   * sixteenth of the cache), so that a large cache never stalls one sweep; a pass that
   * reaches the hot end counts as one reconciliation. A cursor that was removed or moved in
   * between makes the next slice start again from the cold end.
   */
  private reconcileStep(): void {
    const weak = this.weak!
    const lru = this.lru
    const cursor = this.reconcileCursor
    let entry = cursor !== undefined && lru.isLinked(cursor) ? cursor : lru.tail
    for (let budget = Math.max(4096, lru.size >> 4); entry !== undefined && budget > 0; budget--) {
      const prev: Entry<K, V, E> | undefined = entry.prev
      if (entry.weak !== undefined && entry.weak.ref.deref() === undefined) this.drop(entry, COLLECTED)
      entry = prev
    }
    this.reconcileCursor = entry
    if (entry === undefined) weak.reconciliations++
  }

  /** Runs the reconciliation that an overflow of the cleanup queue asked for, if any. */
  private maintain(): void {
    if (this.weak !== undefined && this.weak.overflowed) this.reconcile()
  }

  /** One pass over the resolved entries, removing every one whose value was collected. */
  private reconcile(): void {
    const weak = this.weak!
    weak.overflowed = false
    weak.reconciliations++
    let entry = this.lru.tail
    while (entry !== undefined) {
      const prev = entry.prev
      if (entry.weak !== undefined && entry.weak.ref.deref() === undefined) this.drop(entry, COLLECTED)
      entry = prev
    }
  }

  // ---------------------------------------------------------------------------------------
  // Synchronous and Promise access

  getSyncExit(key: K): Exit.Exit<V, E | ChronoCacheError> {
    if (this.closed) return Exit.fail(this.closedError())
    if (this.inCallback > 0 || runningInside(this.owner)) return Exit.fail(new ReentrantAccessError({ key }))
    const found = this.read(key)
    if (found instanceof Entry) return this.answerOf(found)
    if (found.result !== undefined) return found.result as Answer<V, E>
    found.keep = true // the synchronous reader was told the load goes on
    return Exit.fail(new LoadPendingError({ key }))
  }

  getSync(key: K): V {
    if (!this.closed && this.inCallback === 0 && !runningInside(this.owner)) {
      const value = this.hitValue(key)
      if (value !== MISS) return value
    }
    const exit = this.getSyncExit(key)
    if (exit._tag === "Success") return exit.value
    throw squash(exit)
  }

  getPromise(key: K, options?: PromiseOptions): Promise<V> {
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.closed) return Promise.reject(this.closedError())
    // A fresh hit needs no fiber: answer it here, as `get` would.
    const value = this.hitValue(key)
    if (value !== MISS) return Promise.resolve(value)
    // Called from inside a load (a lookup awaiting a promise), the wait is that load's, so
    // that a cycle through promises is found as one through Effects is: that wait goes
    // through a fiber, as `get`.
    const caller = FiberNS.getCurrentFiber()
    const me = caller._tag === "Some" ? caller.value.getFiberRef(currentLoad) : undefined
    if (me !== undefined) {
      const get = Effect.locally(this.get(key), currentLoad, me)
      return Runtime.runPromiseExit(this.runtime, get, signal === undefined ? undefined : { signal }).then(
        (exit) => {
          if (exit._tag === "Success") return exit.value
          if (signal?.aborted && isInterruptedOnly(exit)) throw signal.reason
          throw squash(exit)
        }
      )
    }
    // Anywhere else the caller waits without a fiber: it joins (or starts) the load as `get`
    // does, and its promise settles with the load's answer, at the same moment as the
    // fibers waiting for it.
    const found = this.read(key)
    if (found instanceof Entry) return settled(this.answerOf(found))
    const load = found
    if (load.result !== undefined) return settled(load.result as Answer<V, E>)
    return new Promise<V>((resolve, reject) => {
      const waiter = (answer: Exit.Exit<unknown, unknown>) => {
        signal?.removeEventListener("abort", onAbort)
        if (answer._tag === "Success") resolve(answer.value as V)
        else reject(Cause.squash(answer.cause))
      }
      // A fired signal detaches this caller only, as an interrupted waiter would.
      const onAbort = () => {
        const promises = load.promises
        const at = promises === undefined ? -1 : promises.indexOf(waiter)
        if (at < 0) return
        promises!.splice(at, 1)
        reject(signal!.reason)
        this.detach(load)
      }
      load.waiters++
      ;(load.promises ??= []).push(waiter)
      signal?.addEventListener("abort", onAbort, { once: true })
    })
  }

  // ---------------------------------------------------------------------------------------
  // Lifecycle

  /** Closes the cache: answers every waiter with `CacheClosedError` and empties it. */
  close(): void {
    if (this.closed) return
    this.closed = true
    const answer = Exit.fail(this.closedError())
    for (const load of this.pending) {
      this.answer(load, answer)
      load.fiber?.unsafeInterruptAsFork(FiberId.none)
      load.timer?.unsafeInterruptAsFork(FiberId.none)
    }
    this.pending.clear()
    this.clear()
  }

  private now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  private closedError(): CacheClosedError {
    return new CacheClosedError({ name: this.config.name })
  }
}

const isInterruptedOnly = (exit: Exit.Exit<unknown, unknown>): boolean =>
  exit._tag === "Failure" && Cause.isInterruptedOnly(exit.cause)

/** A promise settled with an answer: its value, or its typed error (else its defect) itself. */
const settled = <V>(answer: Exit.Exit<V, unknown>): Promise<V> =>
  answer._tag === "Success" ? Promise.resolve(answer.value) : Promise.reject(Cause.squash(answer.cause))

/** The thrown value of a failed read: the typed error itself, else the defect itself. */
const squash = (exit: Exit.Failure<unknown, unknown>): unknown => Cause.squash(exit.cause)
