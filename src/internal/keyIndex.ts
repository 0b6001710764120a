/**
 * The key index: key -> entry.
 *
 * Implementation notes
 *
 * State. `primitive` is a native `Map` for every key that `Equal.equals` compares by identity
 * or by value as a primitive (strings, numbers, bigints, symbols, and plain objects, which it
 * compares by reference). `structural` holds the keys it compares by content: those that
 * implement `Equal` (`Data` classes and structs, tuples, `HashSet`s...), and `Date` and `URL`
 * values; they are bucketed by `Hash.hash`; a bucket is one
 * entry or an array of entries whose hashes collide. `count` is the number of entries.
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
import type { Entry } from "./entry.js"

/** @internal */
export const isStructural = (key: unknown): boolean =>
  (typeof key === "object" || typeof key === "function") && key !== null &&
  (Equal.symbol in key || key instanceof Date || key instanceof URL)

/** @internal */
export const hashOf = (key: unknown): number => isStructural(key) ? Hash.hash(key) : 0

/** @internal */
export class KeyIndex<K, V, E> {
  private primitive = new Map<K, Entry<K, V, E>>()
  private structural = new Map<number, Entry<K, V, E> | Array<Entry<K, V, E>>>()
  private structuralCount = 0

  get size(): number {
    return this.primitive.size + this.structuralCount
  }

  get(key: K): Entry<K, V, E> | undefined {
    if (!isStructural(key)) return this.primitive.get(key)
    const bucket = this.structural.get(Hash.hash(key))
    if (bucket === undefined) return undefined
    if (!Array.isArray(bucket)) return Equal.equals(bucket.key, key) ? bucket : undefined
    for (const entry of bucket) if (Equal.equals(entry.key, key)) return entry
    return undefined
  }

  /** Puts `entry` under its key, replacing whatever entry had an equal key. */
  set(entry: Entry<K, V, E>): void {
    const key = entry.key
    if (!isStructural(key)) {
      this.primitive.set(key, entry)
      return
    }
    const bucket = this.structural.get(entry.hash)
    if (bucket === undefined) {
      this.structural.set(entry.hash, entry)
      this.structuralCount++
    } else if (!Array.isArray(bucket)) {
      if (Equal.equals(bucket.key, key)) {
        this.structural.set(entry.hash, entry)
      } else {
        this.structural.set(entry.hash, [bucket, entry])
        this.structuralCount++
      }
    } else {
      const at = bucket.findIndex((other) => Equal.equals(other.key, key))
      if (at >= 0) {
        bucket[at] = entry
      } else {
        bucket.push(entry)
        this.structuralCount++
      }
    }
  }

  /** Removes `entry` if it is the one held for its key; says whether it was. */
  delete(entry: Entry<K, V, E>): boolean {
    const key = entry.key
    if (!isStructural(key)) {
      if (this.primitive.get(key) !== entry) return false
      this.primitive.delete(key)
      return true
    }
    const bucket = this.structural.get(entry.hash)
    if (bucket === undefined) return false
    if (!Array.isArray(bucket)) {
      if (bucket !== entry) return false
      this.structural.delete(entry.hash)
    } else {
      const at = bucket.indexOf(entry)
      if (at < 0) return false
      bucket.splice(at, 1)
      if (bucket.length === 1) this.structural.set(entry.hash, bucket[0]!)
    }
    this.structuralCount--
    return true
  }

  clear(): void {
    this.primitive.clear()
    this.structural.clear()
    this.structuralCount = 0
  }

  *values(): IterableIterator<Entry<K, V, E>> {
    yield* this.primitive.values()
    for (const bucket of this.structural.values()) {
      if (Array.isArray(bucket)) yield* bucket
      else yield bucket
    }
  }
}
