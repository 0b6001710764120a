/**
 * Expiry order: a binary min-heap of the resolved entries that have a finite `expiresAt`.
 *
 * Implementation notes
 *
 * State: `items`, the heap array of slot numbers; each slot knows its position in the
 * `heapIndex` column (-1 when not in the heap), so an entry is removed or re-keyed in
 * O(log n) without a search. The keys are the `expiresAt` column. Both columns exist only
 * for caches with a time limit, the only ones that use this heap. The sweeper pops from the
 * top while the top has expired, so one sweep costs O(k log n) for k expired entries and
 * never scans the cache. A time-to-live function may give every entry its own lifetime,
 * which is why this is a heap and not a write-ordered list.
 *
 * Idle expiry needs no structure of its own: the recency list is ordered by last access, so
 * the idle sweep walks it from the tail and stops at the first entry still fresh.
 *
 * A clock that steps backwards only makes entries live longer than planned: nothing here
 * compares two clock readings with each other, only `expiresAt` with the current time.
 *
 * Who writes: cache.ts only, in synchronous sections.
 */
import { NIL, type Slots } from "./entry.js"

/** @internal */
export class ExpiryHeap {
  private items: Array<number> = []

  constructor(private readonly slots: Slots<unknown, unknown>) {}

  get size(): number {
    return this.items.length
  }

  /** The slot that expires first, or `NIL`. */
  peek(): number {
    return this.items.length === 0 ? NIL : this.items[0]!
  }

  /** Inserts `slot`, or moves it to its place after its `expiresAt` changed. */
  upsert(slot: number): void {
    const index = this.slots.heapIndex!
    const at = index[slot]!
    if (at < 0) {
      this.items.push(slot)
      this.up(this.items.length - 1)
    } else {
      this.down(this.up(at))
    }
  }

  remove(slot: number): void {
    const index = this.slots.heapIndex
    if (index === undefined) return
    const at = index[slot]!
    if (at < 0) return
    index[slot] = NIL
    const last = this.items.pop()!
    if (at < this.items.length) {
      this.items[at] = last
      index[last] = at
      this.down(this.up(at))
    }
  }

  clear(): void {
    const index = this.slots.heapIndex
    if (index !== undefined) { for (const slot of this.items) index[slot] = NIL }
    this.items = []
  }

  private up(at: number): number {
    const items = this.items
    const index = this.slots.heapIndex!
    const expiresAt = this.slots.expiresAt!
    const slot = items[at]!
    const key = expiresAt[slot]!
    while (at > 0) {
      const parent = (at - 1) >> 1
      const above = items[parent]!
      if (expiresAt[above]! <= key) break
      items[at] = above
      index[above] = at
      at = parent
    }
    items[at] = slot
    index[slot] = at
    return at
  }

  private down(at: number): number {
    const items = this.items
    const index = this.slots.heapIndex!
    const expiresAt = this.slots.expiresAt!
    const n = items.length
    const slot = items[at]!
    const key = expiresAt[slot]!
    for (;;) {
      const left = 2 * at + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && expiresAt[items[right]!]! < expiresAt[items[left]!]! ? right : left
      const below = items[child]!
      if (key <= expiresAt[below]!) break
      items[at] = below
      index[below] = at
      at = child
    }
    items[at] = slot
    index[slot] = at
    return at
  }
}
