/**
 * The Effect that `get` returns.
 *
 * Run by the fiber runtime (`pipe`, `Effect.map`, `Effect.all`...), it commits to the cache's
 * read path. Run by `yield*` inside `Effect.gen`, its iterator first tries the hit path and,
 * on a hit, hands the value straight back to the generator without a trip through the
 * runtime; anything else (a miss, a pending load, a kept failure, a closed cache) is yielded
 * to the runtime as usual. The object holds no state of its own beyond the cache and the
 * key, so it can be run any number of times, each run a fresh read.
 *
 * Limitation: a generator loop whose every `yield* cache.get(k)` is a hit does not yield to
 * the scheduler between those hits, just as a loop of plain synchronous code does not.
 */
import { type Effect, Effectable } from "effect"
import { YieldWrap } from "effect/Utils"
import type { ChronoCacheError } from "../CacheError.js"

/**
 * What the hit path answers when there is no fresh value to hand back.
 *
 * @internal
 */
export const MISS: unique symbol = Symbol.for("chronocache/miss") as any

/** The part of the cache that `get` needs. @internal */
export interface Readable<K, V, E> {
  hitValue(key: K): V | typeof MISS
  getNow(key: K): Effect.Effect<V, E | ChronoCacheError>
}

/** @internal */
export class GetEffect<K, V, E> extends Effectable.Class<V, E | ChronoCacheError> {
  constructor(readonly cache: Readable<K, V, E>, readonly key: K) {
    super()
  }
  commit(): Effect.Effect<V, E | ChronoCacheError> {
    return this.cache.getNow(this.key)
  }
  override [Symbol.iterator](): Effect.EffectGenerator<Effect.Effect<V, E | ChronoCacheError>> {
    return new GetIterator(this)
  }
}

class GetIterator<K, V, E> {
  private started = false
  constructor(readonly effect: GetEffect<K, V, E>) {}
  next(
    ...args: ReadonlyArray<any>
  ): IteratorResult<YieldWrap<Effect.Effect<V, E | ChronoCacheError>>, V> {
    if (this.started) return { value: args[0], done: true }
    this.started = true
    const value = this.effect.cache.hitValue(this.effect.key)
    if (value !== MISS) return { value, done: true }
    return { value: new YieldWrap(this.effect), done: false }
  }
  [Symbol.iterator](): this {
    return this
  }
}
