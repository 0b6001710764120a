/**
 * The key index: key -> slot.
 *
 * Implementation notes
 *
 * State. `primitive` is a native `Map` for every key that `Equal.equals` compares by identity
 * or by value as a primitive (strings, numbers, bigints, symbols, and plain objects, which it
 * compares by reference). `structural` holds the keys it compares by content: those that
 * implement `Equal` (`Data` classes and structs, tuples, `HashSet`s...), and `Date` and `URL`
 * values; they are bucketed by `Hash.hash`; a bucket is one reference or an array of
 * references whose hashes collide. The keys themselves and their hashes are in the slots'
 * columns (entry.ts).
 *
 * References. The index holds, for each key, a reference to its slot: the slot number (a
 * small integer, which the map stores unboxed), or the entry's kept `Option`. A kept Option
 * is `Option.some(value)` of a strong success, made by the first `getOptionSync` hit of the
 * entry (`keep`) and carrying its slot number in a non-enumerable property, so that a later
 * hit reads the Option and its slot from the one object the map returns, and allocates
 * nothing. It has `Option.some`'s prototype and `value`, and no other enumerable property,
 * so no `Equal`, `toJSON`, property enumeration or deep equality tells it apart.
 *
 * Invariant: a kept Option stands for a slot only while that slot holds a strong success
 * of that very value. Whoever changes a slot's value or state while its key stays in the
 * index calls `unkeep` (entries.ts: `store`, and `drop` when it demotes an entry to pending);
 * `set` puts a plain number back, and `delete` and `clear` drop the reference. So a kept Option found in the
 * index is a fresh success of an untimed strong cache without any further check.
 *
 * Primitive keys never pay for structural hashing: the `Equal` check is one property
 * lookup, and the native map's string hashing is seeded per process by the engine, so
 * untrusted string keys cannot force collisions.
 *
 * Limitation: structural keys are hashed with Effect's `Hash`, which is not seeded; keys
 * built from untrusted input can be made to collide, which makes their bucket a linear scan.
 * Use primitive keys (or a string made from the structure) for untrusted input.
 *
 * Who writes: entries.ts only, in synchronous sections.
 */
import { Equal, Hash, Option } from "effect"
import type { Slots } from "./entry.js"

/**
 * Kept Options are made by a constructor whose `prototype` is Effect's own `Some` prototype,
 * so that they are what `Option.some` makes (same prototype, `value` their one enumerable
 * property) in 40 bytes rather than 56, and carry their slot number in a non-enumerable
 * `slot`, which no `Equal`, `toJSON`, `Object.keys`, spread or deep equality sees.
 */
const KeptSomeConstructor = function(this: { value: unknown }, value: unknown, slot: number) {
  this.value = value
  Object.defineProperty(this, "slot", { value: slot })
} as unknown as new<V>(value: V, slot: number) => Option.Option<V>
KeptSomeConstructor.prototype = Object.getPrototypeOf(Option.some(undefined))

/** @internal */
export const KeptSome = {
  /** `Option.some(value)`, carrying `slot`. */
  make: <V>(value: V, slot: number): Option.Option<V> => new KeptSomeConstructor(value, slot),
  slotOf: (kept: object): number => (kept as { readonly slot: number }).slot
}

/** A slot number, or the kept Option that stands for it. @internal */
export type SlotRef = number | Option.Option<unknown>

/** The slot a reference stands for. @internal */
export const slotOfRef = (ref: SlotRef): number => typeof ref === "number" ? ref : KeptSome.slotOf(ref)

/** @internal */
export const isStructural = (key: unknown): boolean =>
  (typeof key === "object" || typeof key === "function") && key !== null &&
  (Equal.symbol in key || key instanceof Date || key instanceof URL)

/**
 * `Hash.hash` as a 32-bit integer, the form the slots store it in: a key's own `Hash` may
 * return any number (a fraction, a large integer), which must bucket the same way every time,
 * or, against its type, something that is not a number (a bigint, a symbol), which buckets
 * at 0: such keys are still told apart by `Equal`, in one shared bucket.
 */
/** @internal */
export const structuralHash = (key: unknown): number => {
  const hash: unknown = Hash.hash(key)
  return typeof hash === "number" ? hash | 0 : 0
}

/** @internal */
export class KeyIndex<K> {
  readonly primitive = new Map<K, SlotRef>()
  private structural = new Map<number, SlotRef | Array<SlotRef>>()
  private structuralCount = 0

  constructor(private readonly slots: Slots<K, unknown>) {}

  get size(): number {
    return this.primitive.size + this.structuralCount
  }

  /** The slot of `key`, or `undefined`. */
  get(key: K): number | undefined {
    const ref = this.ref(key)
    return ref === undefined ? undefined : slotOfRef(ref)
  }

  /** The reference held for `key`, or `undefined`. */
  private ref(key: K): SlotRef | undefined {
    if (!isStructural(key)) return this.primitive.get(key)
    const bucket = this.structural.get(structuralHash(key))
    if (bucket === undefined) return undefined
    const keys = this.slots.keys
    if (!Array.isArray(bucket)) return Equal.equals(keys[slotOfRef(bucket)], key) ? bucket : undefined
    for (const ref of bucket) if (Equal.equals(keys[slotOfRef(ref)], key)) return ref
    return undefined
  }

  /** Puts `slot` under its key, replacing whatever reference an equal key had. */
  set(slot: number): void {
    const keys = this.slots.keys
    const key = keys[slot] as K
    if (!this.slots.isStructural(slot)) {
      this.primitive.set(key, slot)
      return
    }
    const hash = this.slots.hashOf(slot)
    const bucket = this.structural.get(hash)
    if (bucket === undefined) {
      this.structural.set(hash, slot)
      this.structuralCount++
    } else if (!Array.isArray(bucket)) {
      if (Equal.equals(keys[slotOfRef(bucket)], key)) {
        this.structural.set(hash, slot)
      } else {
        this.structural.set(hash, [bucket, slot])
        this.structuralCount++
      }
    } else {
      const at = bucket.findIndex((other) => Equal.equals(keys[slotOfRef(other)], key))
      if (at >= 0) {
        bucket[at] = slot
      } else {
        bucket.push(slot)
        this.structuralCount++
      }
    }
  }

  /**
   * The kept Option of `slot`, which must be in the index and hold a strong success of
   * `value`: the one made earlier, or a new one, which then stands in the index for the slot.
   */
  keep<V>(slot: number, value: V): Option.Option<V> {
    const ref = this.refOf(slot)
    if (typeof ref === "object") return ref as Option.Option<V>
    const kept = KeptSome.make(value, slot)
    this.replace(slot, kept)
    return kept
  }

  /** Puts the plain slot number back in place of the kept Option of `slot`, if any. */
  unkeep(slot: number): void {
    if (typeof this.refOf(slot) === "object") this.replace(slot, slot)
  }

  // The members below find an entry by its slot, through the key kind and hash recorded when
  // it was allocated, and compare references by slot: they never run a key's own `Equal` or
  // `Hash`, which may throw, or answer differently, by the time an entry is taken out.

  /** The reference that stands for `slot` in the index, or `undefined` if none does. */
  private refOf(slot: number): SlotRef | undefined {
    if (!this.slots.isStructural(slot)) {
      const ref = this.primitive.get(this.slots.keys[slot] as K)
      return ref !== undefined && slotOfRef(ref) === slot ? ref : undefined
    }
    const bucket = this.structural.get(this.slots.hashOf(slot))
    if (bucket === undefined) return undefined
    if (!Array.isArray(bucket)) return slotOfRef(bucket) === slot ? bucket : undefined
    return bucket.find((ref) => slotOfRef(ref) === slot)
  }

  /** Replaces the reference that stands for `slot` (which must be there) by `ref`. */
  private replace(slot: number, ref: SlotRef): void {
    if (!this.slots.isStructural(slot)) {
      this.primitive.set(this.slots.keys[slot] as K, ref)
      return
    }
    const hash = this.slots.hashOf(slot)
    const bucket = this.structural.get(hash)!
    if (!Array.isArray(bucket)) this.structural.set(hash, ref)
    else bucket[bucket.findIndex((other) => slotOfRef(other) === slot)] = ref
  }

  /** Removes `slot` if it is the one held for its key; says whether it was. */
  delete(slot: number): boolean {
    if (!this.slots.isStructural(slot)) {
      if (this.refOf(slot) === undefined) return false
      this.primitive.delete(this.slots.keys[slot] as K)
      return true
    }
    const hash = this.slots.hashOf(slot)
    const bucket = this.structural.get(hash)
    if (bucket === undefined) return false
    if (!Array.isArray(bucket)) {
      if (slotOfRef(bucket) !== slot) return false
      this.structural.delete(hash)
    } else {
      const at = bucket.findIndex((other) => slotOfRef(other) === slot)
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
