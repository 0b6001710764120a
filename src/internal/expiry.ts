/**
 * Expiry order: a binary min-heap of the resolved entries that have a finite `expiresAt`.
 *
 * Implementation notes
 *
 * State: `items`, the heap array; each entry knows its position (`heapIndex`, -1 when not in
 * the heap), so an entry is removed or re-keyed in O(log n) without a search. The sweeper
 * pops from the top while the top has expired, so one sweep costs O(k log n) for k expired
 * entries and never scans the cache. A time-to-live function may give every entry its own
 * lifetime, which is why this is a heap and not a write-ordered list.
 *
 * Idle expiry needs no structure of its own: the recency list is ordered by last access, so
 * the idle sweep walks it from the tail and stops at the first entry still fresh.
 *
 * A clock that steps backwards only makes entries live longer than planned: nothing here
 * compares two clock readings with each other, only `expiresAt` with the current time.
 *
 * Who writes: cache.ts only, in synchronous sections.
 */
import type { Entry } from "./entry.js"

/** @internal */
export class ExpiryHeap<K, V, E> {
  private items: Array<Entry<K, V, E>> = []

  get size(): number {
    return this.items.length
  }

  peek(): Entry<K, V, E> | undefined {
    return this.items[0]
  }

  /** Inserts `entry`, or moves it to its place after its `expiresAt` changed. */
  upsert(entry: Entry<K, V, E>): void {
    if (entry.heapIndex < 0) {
      entry.heapIndex = this.items.length
      this.items.push(entry)
      this.up(entry.heapIndex)
    } else {
      this.down(this.up(entry.heapIndex))
    }
  }

  remove(entry: Entry<K, V, E>): void {
    const at = entry.heapIndex
    if (at < 0) return
    entry.heapIndex = -1
    const last = this.items.pop()!
    if (at < this.items.length) {
      this.items[at] = last
      last.heapIndex = at
      this.down(this.up(at))
    }
  }

  clear(): void {
    for (const entry of this.items) entry.heapIndex = -1
    this.items = []
  }

  private up(at: number): number {
    const items = this.items
    const entry = items[at]!
    while (at > 0) {
      const parent = (at - 1) >> 1
      const above = items[parent]!
      if (above.expiresAt <= entry.expiresAt) break
      items[at] = above
      above.heapIndex = at
      at = parent
    }
    items[at] = entry
    entry.heapIndex = at
    return at
  }

  private down(at: number): number {
    const items = this.items
    const n = items.length
    const entry = items[at]!
    for (;;) {
      const left = 2 * at + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && items[right]!.expiresAt < items[left]!.expiresAt ? right : left
      const below = items[child]!
      if (entry.expiresAt <= below.expiresAt) break
      items[at] = below
      below.heapIndex = at
      at = child
    }
    items[at] = entry
    entry.heapIndex = at
    return at
  }
}
