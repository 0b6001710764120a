/**
 * One run of the loader: the Effect that a load fiber runs, and the answer its waiters get.
 *
 * Implementation notes
 *
 * A load is a fiber of the cache, forked on the cache's runtime (cache.ts); the caller only
 * waits on the load's `Deferred`. This file builds what that fiber runs and turns its `Exit`
 * into the answer for the waiters:
 *
 * - The lookup is suspended, so a lookup function that throws before returning an Effect is
 *   a defect of the load, not an exception in the caller's synchronous section.
 * - `loadTimeout` races the lookup against the cache's `Clock`. The lookup runs
 *   `disconnect`ed, so that a lookup stuck in an uninterruptible region cannot hold its
 *   waiters past the timeout: they are answered on time and the lookup is interrupted in the
 *   background.
 * - `currentLoad` is set for the lookup's fiber (and inherited by fibers it forks), which is
 *   what lets waits between loads be recorded and cycles found (waitGraph.ts).
 * - A failure, a defect or a self-interruption is logged once, at warning level, annotated
 *   with the cache's name and the key. An interruption from outside (the cache closing, or
 *   every waiter leaving) is not a failure of the loader and is not logged.
 *
 * `answerOf` guarantees that no waiter observes an interruption that is not its own: an
 * `Exit` that carries an interruption becomes its typed failure or its defect if it has one,
 * and otherwise a defect saying the loader interrupted itself.
 */
import { Cause, Duration, Effect, Exit } from "effect"
import { LoadTimeoutError } from "../CacheError.js"
import type { Load } from "./entry.js"
import type { Config } from "./options.js"
import { currentLoad } from "./waitGraph.js"

/** @internal */
export const loadEffect = <K, V, E, R>(
  config: Config<K, V, E, R>,
  key: K,
  load: Load
): Effect.Effect<V, E | LoadTimeoutError, R> => {
  let effect: Effect.Effect<V, E | LoadTimeoutError, R> = Effect.suspend(() => config.lookup(key))
  const timeout = config.loadTimeout
  if (timeout !== undefined) {
    effect = Effect.timeoutFail(Effect.disconnect(effect), {
      duration: timeout,
      onTimeout: () => {
        load.timedOut = true
        return new LoadTimeoutError({ key, timeoutMillis: Duration.toMillis(timeout) })
      }
    })
  }
  return effect.pipe(
    Effect.tapErrorCause((cause) =>
      load.timedOut ? Effect.void : Effect.logWarning("ChronoCache: a load failed", cause).pipe(
        Effect.annotateLogs({ cache: config.name ?? "ChronoCache", key: String(key) })
      )
    ),
    Effect.locally(currentLoad, load)
  )
}

/**
 * The answer a load's waiters get for the loader fiber's `Exit`.
 *
 * @internal
 */
export const answerOf = <A, E>(exit: Exit.Exit<A, E>, key: unknown): Exit.Exit<A, E> => {
  if (Exit.isSuccess(exit) || !Cause.isInterrupted(exit.cause)) return exit
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some") return Exit.fail(failure.value)
  const defect = Cause.dieOption(exit.cause)
  if (defect._tag === "Some") return Exit.die(defect.value)
  return Exit.die(
    new Error(`The lookup of key ${String(key)} interrupted itself; a lookup must succeed or fail.`)
  )
}
