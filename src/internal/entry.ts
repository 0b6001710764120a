/**
 * Entry and load records.
 *
 * Implementation notes
 *
 * Storage. The cache's entries live in `Slots`, column by column: an entry is a slot number,
 * and each of its fields is the element at that number of one array. The columns every
 * entry needs are dense: `keys` and `values` (arrays of references), `state` (bytes), the
 * recency links `prev` and `next` (32-bit integers, lru.ts). Columns that only some
 * caches or some entries need are made when first needed: `hashes` and `structural`
 * (made by the first key compared by content),
 * `exits` (made by reads, see below), and the time columns
 * `expiresAt`, `lastAccess`, `heapIndex` (only for caches with a time limit). An entry thus
 * costs no object of its own: a read of a strong value touches the index, one byte of
 * `state`, two links, and the value's element, all in compact arrays.
 *
 * Slots are handed out from a free list threaded through `next`; freed slots are reused.
 * The columns grow by doubling up to `capacity`, so a cache filled to its capacity holds
 * exactly that many slots; beyond it (pending entries of loads in flight when the cache is
 * full) they grow by a sixteenth at a time. They never shrink, except that `reset` (on
 * `invalidateAll` and close) drops them all.
 * Limitation: a cache that was once full keeps the memory of its columns until it is reset.
 *
 * State. A slot is FREE, PENDING (no result yet; a load is in flight for it), SUCCESS or
 * FAILURE (resolved: a success, or a failure that `timeToLive` chose to keep). A resolved
 * entry may have a load in flight too: a refresh, whose result replaces the old one. The
 * loads in flight by slot are in `loads`, a map, since few entries have one at a time.
 *
 * Ownership. A slot number is reused once freed, so it is not by itself a token that can be
 * held across a yield. What crosses a yield holds an object that the slot holds while it is
 * the same entry: a load only writes its result into its slot if `loads.get(slot)` is still
 * that load; a collected-value notice only removes its slot if `values[slot]` is still its
 * weak cell (weak.ts). `release` clears both, so a freed or reused slot fails either check.
 * A `set`, an `invalidate` or a newer load replaces them too, so a stale writer backs off.
 *
 * Boxes. `exits[slot]` holds a kept failure; or, for a strong success, its `Exit`, made on
 * the first read that needs one (`get` run by the runtime, `getSyncExit`) and then returned
 * as-is (never for a weak value, which it would pin); it is cleared whenever the value
 * changes. `getOptionSync` keeps its `Option` likewise, but in the key index (keyIndex.ts),
 * where its hit finds it without reading any column. A box costs memory only once a read of
 * that kind made it (an `Exit` about 90 bytes, an `Option` about 40).
 *
 * Time columns (timed caches only): `expiresAt` (Clock millis, `Infinity` for never),
 * `lastAccess` (Clock millis of the last read or write, for time-to-idle), `heapIndex`
 * (position in the expiry heap, expiry.ts, or -1).
 *
 * Who writes. Only synchronous code in cache.ts and the rooms it calls (no yield happens
 * while an entry is being changed), so every change is atomic with respect to fibers.
 */
import type { Deferred, Exit, Fiber } from "effect"

/** No slot: the end of a link, or an absent entry. @internal */
export const NIL = -1

/** @internal */
export const FREE = 0
/** @internal */
export const PENDING = 1
/** @internal */
export const SUCCESS = 2
/** @internal */
export const FAILURE = 3

const FIRST_LENGTH = 16

/** @internal */
export class Slots<K, V> {
  keys: Array<K | undefined> = []
  /** The value of a strong success; the `WeakCell` of a weak one; otherwise `undefined`. */
  values: Array<unknown> = []
  state = new Uint8Array(0)
  prev = new Int32Array(0)
  next = new Int32Array(0)
  hashes: Int32Array | undefined = undefined
  /** 1 for a key compared by content (keyIndex.ts); made with `hashes`. */
  structural: Uint8Array | undefined = undefined
  exits: Array<Exit.Exit<V, unknown> | undefined> | undefined = undefined
  expiresAt: Float64Array | undefined = undefined
  lastAccess: Float64Array | undefined = undefined
  heapIndex: Int32Array | undefined = undefined
  /** The load in flight for a slot (a first load or a refresh). */
  readonly loads = new Map<number, Load>()
  /** Slots handed out so far: `[0, top)`; the free ones among them are on the free list. */
  private top = 0
  private freeHead = NIL

  constructor(readonly capacity: number, readonly timed: boolean) {}

  get length(): number {
    return this.state.length
  }

  /**
   * A slot for a new pending entry of `key`: `structural` when the key is compared by content,
   * with its `hash`. Both are recorded, so that the entry can later be found and taken out by
   * its slot without running the key's own `Equal` or `Hash` again.
   */
  alloc(key: K, structural: boolean, hash: number): number {
    let slot = this.freeHead
    if (slot !== NIL) {
      this.freeHead = this.next[slot]!
    } else {
      if (this.top === this.state.length) this.grow()
      slot = this.top++
    }
    this.keys[slot] = key
    this.state[slot] = PENDING
    this.prev[slot] = NIL
    this.next[slot] = NIL
    if (structural || this.structural !== undefined) {
      ;(this.hashes ??= new Int32Array(this.state.length))[slot] = hash
      ;(this.structural ??= new Uint8Array(this.state.length))[slot] = structural ? 1 : 0
    }
    if (this.heapIndex !== undefined) this.heapIndex[slot] = NIL
    return slot
  }

  /** Frees `slot`. It must be out of the index, the recency list and the expiry heap. */
  release(slot: number): void {
    this.keys[slot] = undefined
    this.values[slot] = undefined
    if (this.exits !== undefined) this.exits[slot] = undefined
    this.loads.delete(slot)
    this.state[slot] = FREE
    this.prev[slot] = NIL
    this.next[slot] = this.freeHead
    this.freeHead = slot
  }

  hashOf(slot: number): number {
    return this.hashes === undefined ? 0 : this.hashes[slot]!
  }

  /** Whether the key of `slot` is compared by content, as recorded when it was allocated. */
  isStructural(slot: number): boolean {
    return this.structural !== undefined && this.structural[slot] === 1
  }

  exitsColumn(): Array<Exit.Exit<V, unknown> | undefined> {
    return this.exits ??= new Array(this.state.length)
  }

  /** Forgets every entry and gives the columns' memory back. */
  reset(): void {
    this.keys = []
    this.values = []
    this.state = new Uint8Array(0)
    this.prev = new Int32Array(0)
    this.next = new Int32Array(0)
    this.hashes = undefined
    this.structural = undefined
    this.exits = undefined
    this.expiresAt = undefined
    this.lastAccess = undefined
    this.heapIndex = undefined
    this.loads.clear()
    this.top = 0
    this.freeHead = NIL
  }

  private grow(): void {
    const length = this.state.length
    const capacity = this.capacity
    let next: number
    if (length < capacity) next = Math.min(capacity, Math.max(FIRST_LENGTH, length * 2))
    else next = length + Math.max(FIRST_LENGTH, length >> 4)
    this.keys = copied(this.keys, length, next)
    this.values = copied(this.values, length, next)
    this.state = widened(this.state, new Uint8Array(next))
    this.prev = widened(this.prev, new Int32Array(next))
    this.next = widened(this.next, new Int32Array(next))
    if (this.hashes !== undefined) this.hashes = widened(this.hashes, new Int32Array(next))
    if (this.structural !== undefined) this.structural = widened(this.structural, new Uint8Array(next))
    if (this.exits !== undefined) this.exits = copied(this.exits, length, next)
    if (this.timed) {
      this.expiresAt = widened(this.expiresAt ?? new Float64Array(0), new Float64Array(next))
      this.lastAccess = widened(this.lastAccess ?? new Float64Array(0), new Float64Array(next))
      this.heapIndex = widened(this.heapIndex ?? new Int32Array(0), new Int32Array(next))
    }
  }
}

/** A copy of `from` in a new array of `length` elements (made at that length, so exact). */
const copied = <A>(from: Array<A>, used: number, length: number): Array<A> => {
  const to = new Array<A>(length)
  for (let i = 0; i < used && i < from.length; i++) to[i] = from[i]!
  return to
}

const widened = <T extends Uint8Array | Int32Array | Float64Array>(from: T, to: T): T => {
  to.set(from)
  return to
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
    /** The key being loaded (for cycle reports and logs). */
    readonly key: unknown,
    /** The slot the result is for, while `Slots.loads` maps it to this load. */
    readonly slot: number,
    /** Clock millis when the load started. */
    readonly startedAt: number,
    /** Whether this is a refresh of a resolved entry (the old value stays readable). */
    readonly isRefresh: boolean
  ) {}
}
