/**
 * The recency list: a doubly linked list of resolved entries, most recently used at the
 * head, least recently used at the tail.
 *
 * Implementation notes
 *
 * State: `head`, `tail` and `size`; the links are the `prev` and `next` columns of the slots
 * (entry.ts), 32-bit integers with `NIL` for none, so a touch, an insert and a removal are
 * O(1), allocate nothing, and read only those two compact arrays. Only resolved entries are
 * linked: pending entries are pinned (never chosen for eviction) by not being here at all.
 * `size` is therefore the cache's `size`. A slot is linked iff it is `head` or has a `prev`
 * (a free slot's `next` threads the free list, its `prev` is always `NIL`).
 *
 * Since every read and write moves its entry to the head and stamps `lastAccess`, the list
 * is also ordered by `lastAccess`; the idle sweep walks it from the tail (expiry.ts).
 *
 * Who writes: cache.ts only, in synchronous sections.
 */
import { NIL, type Slots } from "./entry.js"

/** @internal */
export class Lru {
  head = NIL
  tail = NIL
  size = 0

  constructor(private readonly slots: Slots<unknown, unknown>) {}

  isLinked(slot: number): boolean {
    return this.slots.prev[slot] !== NIL || this.head === slot
  }

  /** Links `slot` at the head. It must not be linked already. */
  push(slot: number): void {
    const prev = this.slots.prev
    const head = this.head
    prev[slot] = NIL
    this.slots.next[slot] = head
    if (head !== NIL) prev[head] = slot
    else this.tail = slot
    this.head = slot
    this.size++
  }

  /** Moves a linked slot to the head. */
  touch(slot: number): void {
    const head = this.head
    if (head === slot) return
    const prev = this.slots.prev
    const next = this.slots.next
    const before = prev[slot]!
    const after = next[slot]!
    next[before] = after
    if (after !== NIL) prev[after] = before
    else this.tail = before
    prev[slot] = NIL
    next[slot] = head
    prev[head] = slot
    this.head = slot
  }

  /** Unlinks a linked slot. */
  remove(slot: number): void {
    const prev = this.slots.prev
    const next = this.slots.next
    const before = prev[slot]!
    const after = next[slot]!
    if (before !== NIL) next[before] = after
    else this.head = after
    if (after !== NIL) prev[after] = before
    else this.tail = before
    prev[slot] = NIL
    next[slot] = NIL
    this.size--
  }

  clear(): void {
    this.head = NIL
    this.tail = NIL
    this.size = 0
  }
}
