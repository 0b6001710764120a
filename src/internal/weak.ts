/**
 * Weakly held values: the cells, the finalization registry, and the bounded cleanup queue.
 *
 * Implementation notes
 *
 * State.
 * - `WeakCell`: one per stored weak value; `ref` holds the value weakly, `slot` is the
 *   slot it was stored in. The cell is the ownership token of a collected-value notice: a
 *   notice only removes the entry in `slot` if that slot still holds this cell (a removed
 *   entry's slot holds none, a reused slot another). A key written again after its old
 *   value died has a new cell, so a stale notice never removes it.
 * - `registry`: calls back with the cell when its value is collected. The callback runs
 *   outside every fiber, so it only makes a non-blocking `unsafeOffer` of the cell to the
 *   bounded `queue`; when the queue is full it sets `overflowed` and counts the overflow, so
 *   the notice is not lost: the cache reconciles (removes every dead entry in one pass)
 *   before its next operation, and the sweeper reconciles periodically anyway.
 * - `collected`, `overflows`, `reconciliations`: counters for the stats.
 *
 * Who writes. The registry callback writes `overflowed` and `overflows` and offers to the
 * queue; everything else is written by cache.ts in synchronous sections. The callback runs
 * as its own task, never in the middle of a synchronous section, so there is no torn state.
 *
 * Tolerated races. A notice may arrive for an entry that was already removed, replaced or
 * reconciled: the token check makes it a no-op. A value may die long before its notice
 * arrives (or the runtime may never deliver it): reads and evictions that meet a dead cell
 * remove its entry, so the index never depends on the notices for its bound.
 *
 * `registryFactory` exists so that tests can replace the registry with one that never calls
 * back, to prove the bound does not rest on finalizers.
 */
import type { Queue } from "effect"

/** @internal */
export class WeakCell {
  readonly ref: WeakRef<object>
  constructor(value: object, readonly slot: number) {
    this.ref = new WeakRef(value)
  }
}

/** @internal */
export interface Registry {
  register(target: object, held: WeakCell, unregisterToken: object): void
  unregister(unregisterToken: object): unknown
}

/** @internal */
export const registryFactory: { make: (onCollected: (cell: WeakCell) => void) => Registry } = {
  make: (onCollected) => new FinalizationRegistry<WeakCell>(onCollected)
}

/** @internal */
export const isWeakable = (value: unknown): value is object =>
  (typeof value === "object" && value !== null) || typeof value === "function"

/** @internal */
export class WeakValues {
  readonly registry: Registry
  overflowed = false
  collected = 0
  overflows = 0
  reconciliations = 0

  constructor(readonly queue: Queue.Queue<WeakCell>) {
    this.registry = registryFactory.make((cell) => {
      if (!queue.unsafeOffer(cell)) {
        this.overflowed = true
        this.overflows++
      }
    })
  }

  /** A new cell for `value` stored in `slot`, registered for its collection notice. */
  hold(value: object, slot: number): WeakCell {
    const cell = new WeakCell(value, slot)
    this.registry.register(value, cell, cell)
    return cell
  }

  /** Forgets a cell whose entry was removed or replaced, so no notice comes for it. */
  release(cell: WeakCell): void {
    this.registry.unregister(cell)
  }

  queueDepth(): number {
    const size = this.queue.unsafeSize()
    return size._tag === "Some" ? Math.max(0, size.value) : 0
  }
}
