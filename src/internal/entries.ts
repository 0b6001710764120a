/**
 * The stored entries: the slots, the key index, the recency list and the expiry heap, and
 * everything that reads, writes, expires or evicts an entry. Loads and the public members
 * are in cache.ts, which calls in here.
 *
 * Implementation notes
 *
 * State (written only here, in synchronous sections, called from cache.ts):
 * - `slots`: the entries, stored column by column; an entry is a slot number (entry.ts).
 *   cache.ts reads the columns directly and writes `Slots.loads` (the loads in flight).
 * - `index`: key -> slot (keyIndex.ts). Holds pending and resolved entries, and the kept
 *   Options of `getOptionSync`.
 * - `lru`: resolved entries in recency order (lru.ts); its size is the cache's size.
 * - `heap`: resolved entries with a finite expiry, soonest first (expiry.ts).
 * - `reconcileCursor`: where the periodic weak reconciliation goes on from.
 * - `latest`: the latest Clock time read; the cache's time never goes back (see `now`).
 * - `sweepAt`, `wake`: the sweeper's plan (see `planSweep`).
 * - the eviction counters and the weak bookkeeping, shared with cache.ts.
 *
 * Invariants:
 * - A slot is in the index iff it is not free; `remove` is the only way out of the index,
 *   and it frees the slot.
 * - A slot is linked in the recency list iff it is resolved; pending slots are pinned.
 * - A pending slot always has a load in `Slots.loads`: a stale entry is only demoted to
 *   pending when a refresh of it is in flight, and a load that ends without storing a
 *   result removes its pending entry.
 * - With weak values, `values` holds only weak cells (or nothing, for a kept failure).
 *
 * Tolerated race: the reconciliation cursor is a bare slot number kept between sweeps. If
 * its entry was removed, the next slice starts from the cold end; if its slot was reused,
 * the next slice starts wherever that entry is, skipping or repeating part of the list,
 * which only delays the removal of a dead entry to the next pass.
 */
import { type Clock, Effect, Exit, Option, Queue } from "effect"
import type { ChronoCacheError } from "../CacheError.js"
import { FAILURE, NIL, PENDING, Slots, SUCCESS } from "./entry.js"
import { ExpiryHeap } from "./expiry.js"
import { isStructural, KeptSome, KeyIndex, slotOfRef, structuralHash } from "./keyIndex.js"
import { Lru } from "./lru.js"
import type { Config } from "./options.js"
import type { Counters } from "./stats.js"
import type { WeakCell, WeakValues } from "./weak.js"

type Answer<V, E> = Exit.Exit<V, E | ChronoCacheError>

/** How far from the cold end eviction looks for a dead weak entry to take first. */
const DEAD_WINDOW = 16

/** @internal */
export const EXPIRED = 0
/** @internal */
export const SIZE = 1
/** @internal */
export const COLLECTED = 2

/** @internal */
export class Entries<K, V, E> {
  readonly slots: Slots<K, V>
  readonly index: KeyIndex<K>
  readonly lru: Lru
  private readonly heap: ExpiryHeap
  private readonly timed: boolean
  /** Strong values and no time limit: hits take the short path of `hitSlot`. */
  private readonly plain: boolean
  private reconcileCursor = NIL
  /** The latest Clock time read (see `now`). */
  private latest = -Infinity
  /**
   * When the sweeper plans to wake next (Clock millis; `-Infinity` while it is not asleep on
   * a plan), and how to wake it sooner: a write whose entry is due before then calls `wake`.
   */
  private sweepAt = -Infinity
  private wake: (() => void) | undefined = undefined

  constructor(
    private readonly config: Config<K, V, E, any>,
    private readonly clock: Clock.Clock,
    private readonly counters: Counters,
    private readonly weak: WeakValues | undefined
  ) {
    this.timed = config.timed
    this.plain = !config.timed && weak === undefined
    const slots = new Slots<K, V>(config.capacity, config.timed)
    this.slots = slots
    this.index = new KeyIndex(slots)
    this.lru = new Lru(slots as Slots<unknown, unknown>)
    this.heap = new ExpiryHeap(slots as Slots<unknown, unknown>)
  }

  /** The number of resolved entries: the cache's size. */
  get size(): number {
    return this.lru.size
  }

  /** The slot of `key`, pending or resolved, after any reconciliation that is due. */
  find(key: K): number | undefined {
    this.maintain()
    return this.index.get(key)
  }

  /**
   * The slot of `key` as `find` gives it, after dropping a resolved entry that is no longer
   * fresh (expired, or its weak value collected), so that the caller treats it as absent; an
   * entry with a refresh in flight is demoted to pending instead, and the refresh is found.
   * Not a read: a fresh entry is not touched.
   */
  findLive(key: K): number | undefined {
    const slot = this.find(key)
    if (slot === undefined || this.slots.state[slot]! < SUCCESS) return slot
    if (this.timed && !this.isFresh(slot, this.now())) this.drop(slot, EXPIRED)
    else if (this.isDead(slot)) this.drop(slot, COLLECTED)
    else return slot
    return this.index.get(key)
  }

  /** A new pending entry for `key`, which must have none: its slot, in the index. */
  add(key: K): number {
    const structural = isStructural(key)
    const slot = this.slots.alloc(key, structural, structural ? structuralHash(key) : 0)
    this.index.set(slot)
    return slot
  }

  /**
   * The slot of a fresh success for `key`, touched as a read, or `NIL`: the hit path of
   * every read. Written out for the common cache (strong values, no time limit) and a
   * primitive key, where a hit is one map lookup, one state byte and a relink in the link
   * columns; anything else goes the general way.
   */
  hitSlot(key: K): number {
    if (this.plain && typeof key !== "object" && typeof key !== "function") {
      const ref = this.index.primitive.get(key)
      if (ref === undefined) return NIL
      const slot = slotOfRef(ref)
      const state = this.slots.state[slot]!
      if (state < SUCCESS) return NIL
      this.lru.touch(slot) // a kept failure is touched too, as any read of it
      return state === SUCCESS ? slot : NIL
    }
    this.maintain()
    const slot = this.index.get(key)
    return slot !== undefined && this.readSuccess(slot) ? slot : NIL
  }

  /**
   * `Option.some` of a fresh success for `key`, touched as a read, or `None`: the read of
   * `getOptionSync`. For strong values the Option is made on the first hit and kept in the
   * index (keyIndex.ts), so that later hits allocate nothing; in the common cache with a
   * primitive key, a hit on a kept Option is one map lookup and a relink, as the index
   * holds a kept Option only for a fresh success. A weak value gets a new Option per read,
   * since a kept one would pin it.
   */
  hitOption(key: K): Option.Option<V> {
    if (this.plain && typeof key !== "object" && typeof key !== "function") {
      const ref = this.index.primitive.get(key)
      if (typeof ref === "object") {
        this.lru.touch(KeptSome.slotOf(ref))
        return ref as Option.Option<V>
      }
      if (ref === undefined) return Option.none()
    }
    return this.hitOptionSlow(key)
  }

  /** `hitOption` without a kept Option at hand. */
  private hitOptionSlow(key: K): Option.Option<V> {
    const slot = this.hitSlot(key)
    if (slot === NIL) return Option.none()
    if (this.weak !== undefined) return Option.some(this.valueOf(slot))
    return this.index.keep(slot, this.slots.values[slot] as V)
  }

  /**
   * Whether a resolved entry is still usable, touching it as a read if so. A stale entry
   * (expired, or its weak value collected) is removed, or demoted to pending when a refresh
   * of it is in flight. For a weak entry found alive, the value stays reachable until the
   * current job ends, so `valueOf` right after sees it too.
   */
  readFresh(slot: number): boolean {
    if (this.timed) {
      const now = this.now()
      if (!this.isFresh(slot, now)) {
        this.drop(slot, EXPIRED)
        return false
      }
      this.slots.lastAccess![slot] = now
    }
    if (this.weak !== undefined && this.isDead(slot)) {
      this.drop(slot, COLLECTED)
      return false
    }
    this.lru.touch(slot)
    return true
  }

  /**
   * Whether `slot` holds a fresh success, touching it as a read if it is fresh (a kept
   * failure is touched too, as any read of it).
   */
  private readSuccess(slot: number): boolean {
    const state = this.slots.state[slot]!
    return state >= SUCCESS && this.readFresh(slot) && state === SUCCESS
  }

  /** The value of a fresh, successful entry. */
  valueOf(slot: number): V {
    const value = this.slots.values[slot]
    return this.weak === undefined ? value as V : (value as WeakCell).ref.deref() as V
  }

  /** Whether `slot` holds a weak value that was collected. */
  isDead(slot: number): boolean {
    if (this.weak === undefined) return false
    const cell = this.slots.values[slot] as WeakCell | undefined
    return cell !== undefined && cell.ref.deref() === undefined
  }

  /**
   * The stored result of a fresh entry as an `Exit`: its kept failure, or its success,
   * made once and kept for strong values (never for weak ones, which it would pin).
   */
  answerOf(slot: number): Answer<V, E> {
    const slots = this.slots
    if (slots.state[slot] === FAILURE) return slots.exits![slot] as Answer<V, E>
    if (this.weak !== undefined) return Exit.succeed(this.valueOf(slot))
    const exits = slots.exits ?? slots.exitsColumn()
    return (exits[slot] ??= Exit.succeed(slots.values[slot] as V)) as Answer<V, E>
  }

  isFresh(slot: number, now: number): boolean {
    const slots = this.slots
    if (slots.state[slot]! < SUCCESS) return false
    if (!this.timed) return true
    return now < slots.expiresAt![slot]! && now < slots.lastAccess![slot]! + this.config.timeToIdleMillis
  }

  /**
   * Writes a result that lives `ttl` millis into `slot` and links it, or removes the entry
   * when `ttl` is zero (or time-to-idle is). `fresh` stamps the entry as just accessed (a
   * new load or a write; not a refresh, which replaces a value nobody just read).
   */
  store(slot: number, answer: Answer<V, E>, ttl: number, now: number, fresh: boolean) {
    if (!(ttl > 0) || this.config.timeToIdleMillis <= 0) {
      this.remove(slot)
      return
    }
    const slots = this.slots
    const wasResolved = slots.state[slot]! >= SUCCESS
    this.releaseWeak(slot)
    this.index.unkeep(slot)
    if (answer._tag === "Failure") {
      slots.values[slot] = undefined
      slots.exitsColumn()[slot] = answer
      slots.state[slot] = FAILURE
    } else {
      if (slots.exits !== undefined) slots.exits[slot] = undefined
      slots.values[slot] = this.weak !== undefined ? this.weak.hold(answer.value as object, slot) : answer.value
      slots.state[slot] = SUCCESS
    }
    let expiresAt = Infinity
    if (this.timed) {
      if (ttl !== Infinity) expiresAt = now + ttl
      slots.expiresAt![slot] = expiresAt
      if (fresh || !wasResolved) slots.lastAccess![slot] = now
    }
    if (!this.lru.isLinked(slot)) this.lru.push(slot)
    else if (fresh) this.lru.touch(slot)
    if (expiresAt !== Infinity) this.heap.upsert(slot)
    else this.heap.remove(slot)
    if (this.timed && this.sweepAt !== -Infinity) {
      const due = Math.min(expiresAt, slots.lastAccess![slot]! + this.config.timeToIdleMillis)
      if (due < this.sweepAt) this.wakeSweeper()
    }
    this.evictOverflow()
  }

  /**
   * The sweeper's plan: it sleeps until `at` (Clock millis, `Infinity` for as long as no
   * write comes), and `wake` wakes it sooner. A write of an entry due before `at` calls
   * `wake` (once), so an entry is reclaimed within a sweep interval of its time even when the
   * sweeper slept long; while nothing is due, the sweeper does not wake at all.
   */
  planSweep(at: number, wake: () => void): void {
    this.sweepAt = at
    this.wake = wake
  }

  private wakeSweeper(): void {
    const wake = this.wake
    this.sweepAt = -Infinity
    this.wake = undefined
    wake?.()
  }

  /**
   * When the next entry is due to expire (Clock millis; `Infinity` when none is): the
   * soonest time to live, or the soonest idle time, which is that of the least recently
   * used entry, since the recency list is ordered by last access.
   */
  nextExpiry(): number {
    if (!this.timed) return Infinity
    const top = this.heap.peek()
    let next = top === NIL ? Infinity : this.slots.expiresAt![top]!
    const tail = this.lru.tail
    if (tail !== NIL) next = Math.min(next, this.slots.lastAccess![tail]! + this.config.timeToIdleMillis)
    return next
  }

  /**
   * Removes the entry in `slot` from every structure (a no-op for structures it is not in)
   * and frees the slot, which also forgets its load, if any.
   */
  remove(slot: number): void {
    this.index.delete(slot)
    this.unlink(slot)
    this.slots.release(slot)
  }

  /** Takes `slot` out of the recency list and the expiry heap and forgets its result. */
  private unlink(slot: number): void {
    const slots = this.slots
    if (this.lru.isLinked(slot)) this.lru.remove(slot)
    this.heap.remove(slot)
    this.releaseWeak(slot)
    slots.values[slot] = undefined
    if (slots.exits !== undefined) slots.exits[slot] = undefined
  }

  /** Forgets the weak cell in `slot`, if any, so that no notice comes for it. */
  private releaseWeak(slot: number): void {
    if (this.weak === undefined) return
    const cell = this.slots.values[slot] as WeakCell | undefined
    if (cell === undefined) return
    this.weak.release(cell)
    this.slots.values[slot] = undefined
  }

  /**
   * Drops a resolved entry: evicted for size, expired, or its value collected, counting the
   * cause. A stale entry (expired or collected) with a refresh in flight stays, demoted to
   * pending, so that readers join the refresh. An entry evicted for size goes whatever runs
   * for it, as under `invalidate`: a refresh in flight then answers its own waiters but
   * cannot bring the entry back ahead of the ones that outlived it.
   */
  drop(slot: number, cause: number): void {
    if (cause === EXPIRED) this.counters.evictedExpired++
    else if (cause === COLLECTED) this.counters.evictedCollected++
    else this.counters.evictedSize++
    if (cause === SIZE || !this.slots.loads.has(slot)) {
      this.remove(slot)
    } else {
      // Demoted: the key stays in the index, but no longer for a success.
      this.unlink(slot)
      this.index.unkeep(slot)
      this.slots.state[slot] = PENDING
    }
  }

  /** Evicts from the cold end until `capacity` holds, dead weak entries first. */
  private evictOverflow(): void {
    const lru = this.lru
    if (lru.size <= this.config.capacity) return
    // Entries whose time has passed go before any live one (nothing is due most of the time,
    // and then this costs one clock read).
    this.reclaimExpired()
    if (this.weak !== undefined) this.drainNotices()
    while (lru.size > this.config.capacity) {
      let victim = lru.tail
      let dead = false
      if (this.weak !== undefined) {
        // A dead entry near the cold end goes before the live tail. The look is bounded, so
        // eviction stays O(1); dead entries further in are found by notices, reads, and
        // reconciliation.
        let seen = 0
        for (let slot = victim; slot !== NIL && seen < DEAD_WINDOW; seen++) {
          if (this.isDead(slot)) {
            victim = slot
            dead = true
            break
          }
          slot = this.slots.prev[slot]!
        }
      }
      this.drop(victim, dead ? COLLECTED : SIZE)
    }
  }

  /**
   * Forgets every entry. Loads in flight go on for their own waiters: their slots no longer
   * hold them, so they write nothing.
   */
  clear(): void {
    const weak = this.weak
    if (weak !== undefined) {
      for (const cell of this.slots.values) if (cell !== undefined) weak.release(cell as WeakCell)
    }
    this.index.clear()
    this.lru.clear()
    this.heap.clear()
    this.slots.reset()
    this.reconcileCursor = NIL
  }

  /**
   * Removes the entries whose time has passed: soonest first from the heap, then idle ones
   * from the cold end. Costs O(k log n) for k expired entries, nothing when none is due; run
   * by the sweeper, and before `size` and `cacheStats` report, so that they never count an
   * entry that a read would not return.
   */
  reclaimExpired(): void {
    if (!this.timed) return
    const now = this.now()
    const slots = this.slots
    for (let top = this.heap.peek(); top !== NIL && slots.expiresAt![top]! <= now; top = this.heap.peek()) {
      this.drop(top, EXPIRED)
    }
    const idle = this.config.timeToIdleMillis
    if (idle !== Infinity) {
      for (let tail = this.lru.tail; tail !== NIL && slots.lastAccess![tail]! + idle <= now; tail = this.lru.tail) {
        this.drop(tail, EXPIRED)
      }
    }
  }

  /** Handles collected-value notices taken from the cleanup queue. */
  collectNotices(cells: Iterable<WeakCell>): void {
    for (const cell of cells) {
      // The cell is the token: a slot that still holds it still holds the same entry.
      const slot = cell.slot
      if (this.slots.values[slot] === cell && cell.ref.deref() === undefined) this.drop(slot, COLLECTED)
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
   * reaches the hot end counts as one reconciliation. A cursor whose entry was removed makes
   * the next slice start again from the cold end; one that was moved, or whose slot was
   * reused, makes it start elsewhere: that pass skips or repeats part of the list, which
   * only delays the removal of a dead entry to the next pass.
   */
  reconcileStep(): void {
    const weak = this.weak!
    const lru = this.lru
    const cursor = this.reconcileCursor
    let slot = cursor !== NIL && lru.isLinked(cursor) ? cursor : lru.tail
    for (let budget = Math.max(4096, lru.size >> 4); slot !== NIL && budget > 0; budget--) {
      const prev = this.slots.prev[slot]!
      if (this.isDead(slot)) this.drop(slot, COLLECTED)
      slot = prev
    }
    this.reconcileCursor = slot
    if (slot === NIL) weak.reconciliations++
  }

  /** Runs the reconciliation that an overflow of the cleanup queue asked for, if any. */
  maintain(): void {
    if (this.weak !== undefined && this.weak.overflowed) this.reconcile()
  }

  /** One pass over the resolved entries, removing every one whose value was collected. */
  private reconcile(): void {
    const weak = this.weak!
    weak.overflowed = false
    weak.reconciliations++
    let slot = this.lru.tail
    while (slot !== NIL) {
      const prev = this.slots.prev[slot]!
      if (this.isDead(slot)) this.drop(slot, COLLECTED)
      slot = prev
    }
  }

  /**
   * The cache's time: the Clock's millis, but never less than a time read before. A clock
   * that steps back (a wall clock set back, `TestClock.setTime` to an earlier time) is held
   * at the latest time seen until it passes it again, so that the recency list stays
   * ordered by last access and every freshness check agrees with `size`.
   */
  now(): number {
    const time = this.clock.unsafeCurrentTimeMillis()
    if (time > this.latest) this.latest = time
    return this.latest
  }
}
