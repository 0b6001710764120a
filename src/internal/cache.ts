/**
 * The cache object: loads, waiters, and the public members, over the stored entries
 * (entries.ts), the weak values and the synchronous guard.
 *
 * Implementation notes
 *
 * State (one cache object; every field is written only here, in synchronous sections):
 * - `entries`: the stored entries, their order, expiry and eviction (entries.ts); `slots`
 *   is its column store (entry.ts), whose `loads` (slot -> load in flight) is written here.
 * - `pending`: every load in flight, so that closing the cache can answer all waiters.
 * - `counters`: the stats (stats.ts), shared with `entries` for the eviction counts.
 * - `weak`: weak-value bookkeeping (weak.ts), when `weakValues` is on.
 * - `closed`: set once, when the cache's scope closes.
 *
 * Lifecycle of an entry: a miss puts a pending entry (a new slot) with a fresh `Load` in the
 * index and forks the load as a fiber of the cache (on the runtime captured at build time;
 * closing the cache interrupts it). A caller that has to wait counts itself on the load and awaits its
 * `Deferred` (made only then: a lookup that never suspends has finished within its fork and
 * needs none); a `getPromise` caller outside any fiber registers a callback instead. With
 * `loadTimeout`, a timer fiber answers the waiters when it passes. The fiber's exit observer
 * (`onLoadExit`) runs for every kind of `Exit`: it asks the time-to-live function (user
 * code, before anything changes), writes the result into the slot if the slot still holds
 * this load, evicts beyond `capacity`, and only then answers the waiters (`answer`), so a
 * waiter that retries the moment it sees a failure finds the failed entry already gone and
 * starts a fresh load.
 *
 * No section that changes state yields: JavaScript runs one fiber step at a time, so every
 * method body below is atomic with respect to other fibers. Whatever crosses a yield (a
 * waiter resuming, a load finishing, a weak notice) re-checks its token: the slot still
 * holds its load, or its weak cell (see entry.ts). A removed entry's slot is freed at once
 * and may be reused, so nothing may hold a bare slot number across a yield.
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
 * - The clock steps backwards: the cache's time is held at the latest time seen (entries.ts,
 *   `now`), so entries live longer than planned by the step; nothing crashes.
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
import { Entries } from "./entries.js"
import { FREE, Load, NIL, PENDING, type Slots, SUCCESS } from "./entry.js"
import { GetEffect, MISS } from "./get.js"
import { answerOf, loadEffect } from "./load.js"
import { type Config, millisOfUserDuration } from "./options.js"
import { label, show } from "./show.js"
import { Counters } from "./stats.js"
import { runningInside } from "./sync.js"
import { addEdge, currentLoad, findCycle, removeEdge } from "./waitGraph.js"
import { isWeakable, type WeakCell, type WeakValues } from "./weak.js"

/** @internal */
export const TypeId: TypeIdType = Symbol.for("chronocache/ChronoCache") as TypeIdType

type Answer<V, E> = Exit.Exit<V, E | ChronoCacheError>
type RunFork<R> = <A, E>(effect: Effect.Effect<A, E, R>) => Fiber.RuntimeFiber<A, E>

/** The longest the sweeper sleeps at a time, in millis. */
const LONGEST_SLEEP = 24 * 60 * 60 * 1000

/** @internal */
export class CacheImpl<K, V, E, R> implements ChronoCache<K, V, E> {
  readonly [TypeId]: TypeIdType = TypeId
  private readonly entries: Entries<K, V, E>
  /** The entries' columns (the same object for the cache's life; its arrays may grow). */
  private readonly slots: Slots<K, V>
  private readonly pending = new Set<Load>()
  private readonly counters = new Counters()
  private closed = false
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
    clock: Clock.Clock,
    private readonly runtime: Runtime.Runtime<R>,
    private readonly weak: WeakValues | undefined
  ) {
    this.runFork = Runtime.runFork(runtime)
    this.annotate = Effect.annotateLogs({ cache: config.name ?? "ChronoCache" })
    this.entries = new Entries(config, clock, this.counters, weak)
    this.slots = this.entries.slots
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
    if (this.closed) return MISS
    const slot = this.entries.hitSlot(key)
    if (slot === NIL) return MISS
    this.counters.hits++
    return this.entries.valueOf(slot)
  }

  /**
   * The one path of a read that may load: a fresh entry (a hit, touched and counted), or
   * the load to wait for: the one in flight (a join, counted as a hit), or a new one (a
   * miss). A stale entry whose refresh is in flight was demoted to pending by `readFresh`,
   * so its readers join the refresh.
   */
  private read(key: K): number | Load {
    const slot = this.entries.find(key)
    if (slot !== undefined) {
      if (this.slots.state[slot]! >= SUCCESS && this.entries.readFresh(slot)) {
        this.counters.hits++
        return slot
      }
      // Unless `readFresh` freed the slot, it is pending now, or it was already.
      const load = this.slots.loads.get(slot)
      if (load !== undefined && this.slots.state[slot] === PENDING) {
        this.counters.hits++
        this.counters.joins++
        return load
      }
    }
    this.counters.misses++
    return this.startLoad(key, undefined)
  }

  getNow(key: K): Effect.Effect<V, E | ChronoCacheError> {
    if (this.closed) return Effect.fail(this.closedError())
    const missesBefore = this.counters.misses
    const found = this.read(key)
    if (typeof found === "number") return this.entries.answerOf(found)
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
    return Effect.suspend(() =>
      this.closed ? Effect.fail(this.closedError()) : Effect.succeed(this.entries.hitOption(key))
    )
  }

  getOptionSync(key: K): Option.Option<V> {
    return this.closed ? Option.none() : this.entries.hitOption(key)
  }

  contains(key: K): Effect.Effect<boolean, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      const slot = this.entries.find(key)
      if (slot === undefined) return Effect.succeed(false)
      if (this.slots.loads.has(slot)) return Effect.succeed(true)
      return Effect.succeed(!this.entries.isDead(slot) && this.entries.isFresh(slot, this.now()))
    })
  }

  // ---------------------------------------------------------------------------------------
  // Loads

  /** Starts a load for `key`: into a new pending entry, or as a refresh of `existing`. */
  private startLoad(key: K, existing: number | undefined): Load {
    // A new entry's key has no slot in the index: the callers only start one after finding
    // none, or after `read` removed a stale one.
    const slot = existing ?? this.entries.add(key)
    const load = new Load(key, slot, this.now(), existing !== undefined)
    this.slots.loads.set(slot, load)
    this.pending.add(load)
    // The fork runs the lookup at once, up to its first suspension; a lookup that never
    // suspends has finished when `runFork` returns, and the observer below runs at once.
    const fiber = this.runFork(loadEffect(this.config, key, load))
    load.fiber = fiber
    fiber.addObserver((exit) => this.onLoadExit(load, exit))
    const timeout = this.config.loadTimeout
    if (timeout !== undefined && load.result === undefined) {
      // The timer is a fiber of its own, not a race inside the load: the lookup keeps its
      // fiber (so a lookup that never suspends still answers a synchronous read), and a
      // lookup stuck in an uninterruptible region cannot hold its waiters past the timeout.
      load.timer = this.runFork(
        Effect.sleep(timeout).pipe(
          Effect.zipRight(Effect.suspend(() => this.onTimeout(load, timeout))),
          this.annotate
        )
      )
    }
    return load
  }

  private onLoadExit(load: Load, exit: Exit.Exit<V, E>): void {
    load.waitsFor = undefined
    load.timer?.unsafeInterruptAsFork(FiberId.none)
    if (load.result !== undefined) return // answered already: timed out, or the cache closed
    let answer: Answer<V, E>
    let ttl = 0
    try {
      answer = this.answerFor(load.key, exit)
      // The time-to-live function is user code: it runs before anything is changed, so that
      // whatever it does to the cache meets a consistent state. Failures the cache made
      // itself (a weak primitive, a self-interruption) are never kept.
      ttl = answer === exit ? this.timeToLiveOf(exit, load.key as K) : 0
      this.countEnd(load, answer)
    } catch (defect) {
      // Nothing above throws (keys are printed safely, user code is guarded); should it
      // ever, the waiters still get an answer.
      answer = Exit.die(defect)
      ttl = 0
    }
    this.finish(load, answer, ttl)
  }

  /** What the waiters of a load get for its fiber's `Exit`. */
  private answerFor(key: unknown, exit: Exit.Exit<V, E>): Answer<V, E> {
    const answer: Answer<V, E> = answerOf(exit, key)
    if (answer._tag === "Success" && this.weak !== undefined && !isWeakable(answer.value)) {
      return Exit.fail(
        new InvalidOptionsError({
          option: "weakValues",
          reason: `the lookup of key ${show(key)} produced a ${typeof answer.value}; weak values must be objects`
        })
      )
    }
    return answer
  }

  /** Counts the end of a load, and logs a failure once, off the hot path. */
  private countEnd(load: Load, answer: Answer<V, E>): void {
    if (answer._tag === "Success") {
      this.counters.loadSuccesses++
    } else if (!load.abandoned) {
      // A load interrupted because every waiter left is not a failure of the lookup: not
      // counted, not logged.
      this.counters.loadFailures++
      // The key is printed in the logging fiber, off the path that answers the waiters.
      this.runFork(
        Effect.suspend(() =>
          Effect.logWarning("ChronoCache: a load failed", answer.cause).pipe(
            Effect.annotateLogs({ key: label(load.key) })
          )
        ).pipe(this.annotate)
      )
    }
  }

  private onTimeout(load: Load, timeout: Duration.Duration): Effect.Effect<void> {
    if (load.result !== undefined) return Effect.void
    load.timedOut = true
    load.fiber?.unsafeInterruptAsFork(FiberId.none)
    this.counters.loadFailures++
    this.counters.loadTimeouts++
    const error = new LoadTimeoutError({ key: load.key, timeoutMillis: Duration.toMillis(timeout) })
    this.finish(load, Exit.fail(error), 0)
    return Effect.suspend(() =>
      Effect.logWarning("ChronoCache: a load timed out and was interrupted").pipe(
        Effect.annotateLogs({ key: label(load.key), timeoutMillis: Duration.toMillis(timeout) })
      )
    )
  }

  /**
   * Ends `load` with `answer`: writes it into its slot if the slot still holds the load
   * (the entry was not removed, replaced or reset meanwhile), then answers the waiters.
   */
  private finish(load: Load, answer: Answer<V, E>, ttl: number): void {
    this.pending.delete(load)
    const now = this.now()
    this.counters.totalLoadTimeMillis += Math.max(0, now - load.startedAt)
    load.result = answer
    const slot = load.slot
    try {
      if (this.slots.loads.get(slot) === load) {
        this.slots.loads.delete(slot)
        const failedRefresh = answer._tag === "Failure" && load.isRefresh
        if (failedRefresh) this.counters.refreshFailures++
        // A failed refresh leaves an old value in place; an old kept failure gives way to
        // the new one, which lives as `timeToLive` says.
        if (!failedRefresh || this.slots.state[slot] !== SUCCESS) {
          this.entries.store(slot, answer, ttl, now, !load.isRefresh)
        }
      }
    } catch (defect) {
      // Storing runs no user code (entries are taken out by slot, never through a key's own
      // `Equal` or `Hash`); should it throw all the same, the entry goes (by its slot, so that
      // nothing is left behind) and the waiters are still answered.
      this.runFork(Effect.logError("ChronoCache: storing a result failed", Cause.die(defect)).pipe(this.annotate))
      if (this.slots.state[slot] !== FREE) this.entries.remove(slot)
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
          .pipe(Effect.annotateLogs({ key: label(key) }), this.annotate)
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
    const slot = load.slot
    if (this.slots.loads.get(slot) === load) {
      this.slots.loads.delete(slot)
      if (this.slots.state[slot] === PENDING) this.entries.remove(slot)
    }
    load.fiber?.unsafeInterruptAsFork(FiberId.none)
  }

  // ---------------------------------------------------------------------------------------
  // Writes

  set(key: K, value: V): Effect.Effect<void, ChronoCacheError> {
    return Effect.suspend((): Effect.Effect<void, ChronoCacheError> => {
      if (this.closed) return Effect.fail(this.closedError())
      this.entries.maintain()
      if (this.weak !== undefined && !isWeakable(value)) {
        return Effect.fail(
          new InvalidOptionsError({ option: "weakValues", reason: `set of key ${show(key)} with a ${typeof value}` })
        )
      }
      const exit = Exit.succeed(value)
      const ttl = this.timeToLiveOf(exit, key) // user code first, before anything changes
      if (this.closed) return Effect.fail(this.closedError())
      let slot = this.entries.index.get(key)
      if (slot === undefined || this.slots.loads.has(slot)) {
        // A load in flight for this key loses to the set: the entry is removed (its slot
        // forgets the load) and a new one takes the key, so the load's ownership check fails
        // and its result reaches only its own waiters.
        if (slot !== undefined) this.entries.remove(slot)
        slot = this.entries.add(key)
      }
      this.entries.store(slot, exit, ttl, this.now(), true)
      return Effect.void
    })
  }

  refresh(key: K): Effect.Effect<void, E | ChronoCacheError> {
    const refresh: Effect.Effect<void, E | ChronoCacheError> = Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      // An entry past its time is refreshed as an absent one: a new load, not a refresh that
      // would keep its old (stale) access time.
      const slot = this.entries.findLive(key)
      // A load already in flight (first load or refresh) is joined rather than doubled.
      const load = slot === undefined
        ? this.startLoad(key, undefined)
        : this.slots.loads.get(slot) ?? this.startLoad(key, slot)
      return Effect.asVoid(this.awaitLoad(load, () => refresh))
    })
    return refresh
  }

  invalidate(key: K): Effect.Effect<void, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      const slot = this.entries.find(key)
      if (slot !== undefined) this.entries.remove(slot)
      return Effect.void
    })
  }

  get invalidateAll(): Effect.Effect<void, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.entries.clear()
      return Effect.void
    })
  }

  get size(): Effect.Effect<number, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.entries.maintain()
      this.entries.reclaimExpired()
      return Effect.succeed(this.entries.size)
    })
  }

  get cacheStats(): Effect.Effect<CacheStats, ChronoCacheError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      this.entries.maintain()
      this.entries.reclaimExpired()
      return Effect.succeed(this.statsNow())
    })
  }

  /** @internal */
  statsNow(): CacheStats {
    const weak = this.weak
    return this.counters.snapshot(this.entries.size, this.pending.size, {
      cleanupQueueDepth: weak === undefined ? 0 : weak.queueDepth(),
      cleanupOverflows: weak === undefined ? 0 : weak.overflows,
      reconciliations: weak === undefined ? 0 : weak.reconciliations
    })
  }

  // ---------------------------------------------------------------------------------------
  // Background work: the sweeper and weak cleanup

  /** Reclaims expired entries (soonest first, then idle from the cold end) and dead weak ones. */
  sweep(): void {
    if (this.closed) return
    this.entries.reclaimExpired()
    if (this.weak !== undefined) this.entries.reconcileStep()
  }

  /**
   * The sweeper of a cache with a time limit and strong values: each round reclaims what is
   * due, then sleeps until the next entry is due (at least `sweepInterval`), or until a
   * write brings an entry due sooner. While nothing is due it does not wake at all, so that
   * a long `TestClock.adjust` costs one wake-up per expiry rather than one per interval.
   * (A cache of weak values sweeps every `sweepInterval`: its reconciliation runs in slices.)
   */
  readonly sweeper: Effect.Effect<void> = Effect.suspend(() => {
    this.sweep()
    if (this.closed) return Effect.never
    const now = this.now()
    const interval = Duration.toMillis(this.config.sweepInterval)
    const next = this.entries.nextExpiry()
    // A sleep is at most a day: the live clock's timers do not take longer ones (about 24.8
    // days at most), and a round that finds nothing due simply plans again.
    const at = next === Infinity ? Infinity : Math.min(Math.max(next, now + interval), now + LONGEST_SLEEP)
    const woken = Deferred.unsafeMake<void>(FiberId.none)
    // A write of an entry due before `at` wakes the sweeper; it then sleeps again until at
    // least one interval after this round, so that a stream of writes cannot spin it.
    this.entries.planSweep(at, () => Deferred.unsafeDone(woken, Exit.void))
    const early = Effect.zipRight(Deferred.await(woken), Effect.sleep(interval))
    return at === Infinity ? early : Effect.raceFirst(Effect.sleep(at - now), early)
  }).pipe(
    // Sweeping runs no user code; should it throw all the same, the sweeper logs it and goes
    // on rather than stop reclaiming for good.
    Effect.catchAllCause((cause) =>
      Effect.zipRight(
        Effect.logError("ChronoCache: a sweep failed", cause),
        Effect.sleep(this.config.sweepInterval)
      )
    )
  )

  /** Handles collected-value notices taken from the cleanup queue. */
  collectNotices(cells: Iterable<WeakCell>): void {
    if (!this.closed) this.entries.collectNotices(cells)
  }

  // ---------------------------------------------------------------------------------------
  // Synchronous and Promise access

  getSyncExit(key: K): Exit.Exit<V, E | ChronoCacheError> {
    if (this.closed) return Exit.fail(this.closedError())
    if (this.inCallback > 0 || runningInside(this.owner)) return Exit.fail(new ReentrantAccessError({ key }))
    const found = this.read(key)
    if (typeof found === "number") return this.entries.answerOf(found)
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
    try {
      return this.promiseOf(key, options)
    } catch (defect) {
      // A key whose own `Equal` or `Hash` throws: the promise rejects, as promised.
      return Promise.reject(defect)
    }
  }

  private promiseOf(key: K, options: PromiseOptions | undefined): Promise<V> {
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
    if (typeof found === "number") return settled(this.entries.answerOf(found))
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
    this.entries.clear()
  }

  private now(): number {
    return this.entries.now()
  }

  private closedError(): CacheClosedError {
    return new CacheClosedError({ cacheName: this.config.name })
  }
}

const isInterruptedOnly = (exit: Exit.Exit<unknown, unknown>): boolean =>
  exit._tag === "Failure" && Cause.isInterruptedOnly(exit.cause)

/** A promise settled with an answer: its value, or its typed error (else its defect) itself. */
const settled = <V>(answer: Exit.Exit<V, unknown>): Promise<V> =>
  answer._tag === "Success" ? Promise.resolve(answer.value) : Promise.reject(Cause.squash(answer.cause))

/** The thrown value of a failed read: the typed error itself, else the defect itself. */
const squash = (exit: Exit.Failure<unknown, unknown>): unknown => Cause.squash(exit.cause)
