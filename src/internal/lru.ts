/**
 * The recency list: an intrusive doubly linked list of resolved entries, most recently used
 * at the head, least recently used at the tail.
 *
 * Implementation notes
 *
 * State: `head`, `tail` and `size`; the links live in the entries (`prev`, `next`), so a
 * touch, an insert and a removal are O(1) and allocate nothing. Only resolved entries are
 * linked: pending entries are pinned (never chosen for eviction) by not being here at all.
 * `size` is therefore the cache's `size`. An entry is linked iff it is `head` or has a
 * `prev`.
 *
 * Since every read and write moves its entry to the head and stamps `lastAccess`, the list
 * is also ordered by `lastAccess`; the idle sweep walks it from the tail (expiry.ts).
 *
 * Who writes: cache.ts only, in synchronous sections.
 */
import type { Entry } from "./entry.js"

/** @internal */
export class Lru<K, V, E> {
  head: Entry<K, V, E> | undefined = undefined
  tail: Entry<K, V, E> | undefined = undefined
  size = 0

  isLinked(entry: Entry<K, V, E>): boolean {
    return entry.prev !== undefined || this.head === entry
  }

  /** Links `entry` at the head. It must not be linked already. */
  push(entry: Entry<K, V, E>): void {
    entry.prev = undefined
    entry.next = this.head
    if (this.head !== undefined) this.head.prev = entry
    else this.tail = entry
    this.head = entry
    this.size++
  }

  /** Moves a linked entry to the head. */
  touch(entry: Entry<K, V, E>): void {
    if (this.head === entry) return
    const prev = entry.prev!
    const next = entry.next
    prev.next = next
    if (next !== undefined) next.prev = prev
    else this.tail = prev
    entry.prev = undefined
    entry.next = this.head
    this.head!.prev = entry
    this.head = entry
  }

  /** Unlinks a linked entry. */
  remove(entry: Entry<K, V, E>): void {
    const prev = entry.prev
    const next = entry.next
    if (prev !== undefined) prev.next = next
    else this.head = next
    if (next !== undefined) next.prev = prev
    else this.tail = prev
    entry.prev = undefined
    entry.next = undefined
    this.size--
  }

  clear(): void {
    this.head = undefined
    this.tail = undefined
    this.size = 0
  }
}
