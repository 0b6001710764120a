/**
 * The key index: key -> slot.
 *
 * Implementation notes
 *
 * State. `primitive` is a native `Map` for every key that `Equal.equals` compares by identity
 * or by value as a primitive (strings, numbers, bigints, symbols, and plain objects, which it
 * compares by reference). `structural` holds the keys it compares by content: those that
 * implement `Equal` (`Data` classes and structs, tuples, `HashSet`s...), and `Date` and `URL`
 * values; they are bucketed by `Hash.hash`; a bucket is one slot or an array of slots whose
 * hashes collide. The keys themselves and their hashes are in the slots' columns
 * (entry.ts); the index holds slot numbers only, small integers that the map stores
 * unboxed.
 *
 * Primitive keys never pay for structural hashing: the `Equal` check is one property
 * lookup, and the native map's string hashing is seeded per process by the engine, so
 * untrusted string keys cannot force collisions.
 *
 * Limitation: structural keys are hashed with Effect's `Hash`, which is not seeded; keys
 * built from untrusted input can be made to collide, which makes their bucket a linear scan.
 * Use primitive keys (or a string made from the structure) for untrusted input.
 *
 * Who writes: cache.ts only, in synchronous sections.
 */
import { Equal, Hash } from "effect"
import type { Slots } from "./entry.js"

/** @internal */
export const isStructural = (key: unknown): boolean =>
  (typeof key === "object" || typeof key === "function") && key !== null &&
  (Equal.symbol in key || key instanceof Date || key instanceof URL)

/** @internal */
export const hashOf = (key: unknown): number => isStructural(key) ? structuralHash(key) : 0

/**
 * `Hash.hash` as a 32-bit integer, the form the slots store it in: a key's own `Hash` may
 * return any number (a fraction, a large integer), which must bucket the same way every time.
 */
const structuralHash = (key: unknown): number => Hash.hash(key) | 0

/** @internal */
export class KeyIndex<K> {
  readonly primitive = new Map<K, number>()
  private structural = new Map<number, number | Array<number>>()
  private structuralCount = 0

  constructor(private readonly slots: Slots<K, unknown>) {}

  get size(): number {
    return this.primitive.size + this.structuralCount
  }

  /** The slot of `key`, or `undefined`. */
  get(key: K): number | undefined {
    if (!isStructural(key)) return this.primitive.get(key)
    const bucket = this.structural.get(structuralHash(key))
    if (bucket === undefined) return undefined
    const keys = this.slots.keys
    if (typeof bucket === "number") return Equal.equals(keys[bucket], key) ? bucket : undefined
    for (const slot of bucket) if (Equal.equals(keys[slot], key)) return slot
    return undefined
  }

  /** Puts `slot` under its key, replacing whatever slot had an equal key. */
  set(slot: number): void {
    const keys = this.slots.keys
    const key = keys[slot] as K
    if (!isStructural(key)) {
      this.primitive.set(key, slot)
      return
    }
    const hash = this.slots.hashOf(slot)
    const bucket = this.structural.get(hash)
    if (bucket === undefined) {
      this.structural.set(hash, slot)
      this.structuralCount++
    } else if (typeof bucket === "number") {
      if (Equal.equals(keys[bucket], key)) {
        this.structural.set(hash, slot)
      } else {
        this.structural.set(hash, [bucket, slot])
        this.structuralCount++
      }
    } else {
      const at = bucket.findIndex((other) => Equal.equals(keys[other], key))
      if (at >= 0) {
        bucket[at] = slot
      } else {
        bucket.push(slot)
        this.structuralCount++
      }
    }
  }

  /** Removes `slot` if it is the one held for its key; says whether it was. */
  delete(slot: number): boolean {
    const key = this.slots.keys[slot] as K
    if (!isStructural(key)) {
      if (this.primitive.get(key) !== slot) return false
      this.primitive.delete(key)
      return true
    }
    const hash = this.slots.hashOf(slot)
    const bucket = this.structural.get(hash)
    if (bucket === undefined) return false
    if (typeof bucket === "number") {
      if (bucket !== slot) return false
      this.structural.delete(hash)
    } else {
      const at = bucket.indexOf(slot)
      if (at < 0) return false
      bucket.splice(at, 1)
      if (bucket.length === 1) this.structural.set(hash, bucket[0]!)
    }
    this.structuralCount--
    return true
  }

  clear(): void {
    this.primitive.clear()
    this.structural.clear()
    this.structuralCount = 0
  }
}
