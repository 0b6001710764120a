/**
 * Building a cache: validating the options, capturing the runtime, starting the background
 * fibers, and tying the cache's life to a `Scope` (or a `Layer`).
 *
 * The runtime is captured from the building fiber (its services, `Clock` and FiberRefs),
 * with interruption on whatever the building fiber's flags are, and with the cache marked
 * as the owner of every fiber it starts (sync.ts). Finalizers run in reverse order, so the
 * cache's own (answering every waiter with `CacheClosedError`, interrupting loads) runs
 * before the background fibers' set is interrupted.
 */
import type { Context, Scope } from "effect"
import { Effect, FiberSet, Layer, Queue } from "effect"
import type { InvalidOptionsError } from "../CacheError.js"
import type { ChronoCache, Options } from "../ChronoCache.js"
import { CacheImpl } from "./cache.js"
import { validate } from "./options.js"
import { cacheOwners } from "./sync.js"
import { type WeakCell, WeakValues } from "./weak.js"

/** @internal */
export const make = <K, V, E = never, R = never>(
  options: Options<K, V, E, R>
): Effect.Effect<ChronoCache<K, V, E>, InvalidOptionsError, Scope.Scope | R> =>
  Effect.gen(function*() {
    const config = yield* validate(options)
    const owner = {}
    const mark = (owners: ReadonlyArray<object>) => [...owners, owner]
    const clock = yield* Effect.clock
    // The background fibers' set comes first so that its finalizer (interrupting them) runs
    // after the cache's own (answering every waiter with CacheClosedError, interrupting loads).
    const fibers = yield* FiberSet.make<unknown, unknown>()
    // The runtimes are captured interruptible whatever the building fiber is (the acquire
    // step of `acquireRelease` is not): loads, timers and background fibers must stay
    // interruptible, or the cache could never be closed.
    const runBackground = yield* Effect.locallyWith(
      Effect.interruptible(FiberSet.runtime(fibers)<never>()),
      cacheOwners,
      mark
    )
    const runtime = yield* Effect.locallyWith(Effect.interruptible(Effect.runtime<R>()), cacheOwners, mark)
    const weak = config.weakValues
      ? new WeakValues(yield* Queue.bounded<WeakCell>(config.cleanupQueueCapacity))
      : undefined
    const cache = new CacheImpl<K, V, E, R>(config, owner, clock, runtime, weak)
    yield* Effect.addFinalizer(() => Effect.sync(() => cache.close()))
    const annotate = cache.annotate
    if (weak !== undefined) {
      runBackground(
        Effect.sleep(config.sweepInterval).pipe(
          Effect.zipRight(Effect.sync(() => cache.sweep())),
          Effect.catchAllCause((cause) => Effect.logError("ChronoCache: a sweep failed", cause)),
          Effect.forever,
          annotate
        )
      )
    } else if (config.timed) {
      runBackground(Effect.forever(cache.sweeper).pipe(annotate))
    }
    if (weak !== undefined) {
      runBackground(
        Queue.takeBetween(weak.queue, 1, 4096).pipe(
          Effect.flatMap((cells) => Effect.sync(() => cache.collectNotices(cells))),
          Effect.forever,
          annotate
        )
      )
    }
    yield* Effect.logDebug("ChronoCache: built").pipe(annotate)
    return cache
  })

/** @internal */
export const layer = <I, K, V, E = never, R = never>(
  tag: Context.Tag<I, ChronoCache<K, V, E>>,
  options: Options<K, V, E, R>
): Layer.Layer<I, InvalidOptionsError, R> => Layer.scoped(tag, make(options))
