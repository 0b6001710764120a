/**
 * One run of the loader: the Effect that a load fiber runs, and the answer its waiters get.
 *
 * Implementation notes
 *
 * A load is a fiber of the cache, forked on the cache's runtime (cache.ts); the caller only
 * waits on the load's `Deferred`. This file builds what that fiber runs and turns its `Exit`
 * into the answer for the waiters:
 *
 * - The lookup function is called inside the fiber, so one that throws before returning an
 *   Effect is a defect of the load, not an exception in the caller's synchronous section.
 * - `loadTimeout` is not here: a timer fiber of the cache answers the waiters when it passes
 *   and interrupts the lookup's fiber (cache.ts), so the lookup runs on the load's own fiber.
 * - `currentLoad` is set for the lookup's fiber (and inherited by fibers it forks), which is
 *   what lets waits between loads be recorded and cycles found (waitGraph.ts).
 * - Nothing is wrapped around the lookup for logging: the cache logs a failed load from its
 *   exit (cache.ts), so a successful load pays for no error handler.
 *
 * `answerOf` guarantees that no waiter observes an interruption that is not its own: an
 * `Exit` that carries an interruption becomes its typed failure or its defect if it has one,
 * and otherwise a defect saying the loader interrupted itself.
 */
import { Cause, Effect, Exit, FiberRef } from "effect"
import type { Load } from "./entry.js"
import type { Config } from "./options.js"
import { show } from "./show.js"
import { currentLoad } from "./waitGraph.js"

/**
 * What the load's fiber runs: the lookup, with `currentLoad` set for the fiber (and so for
 * the fibers it forks). The fiber ends with the lookup, so the FiberRef is set, not scoped:
 * there is nothing to restore.
 *
 * @internal
 */
export const loadEffect = <K, V, E, R>(
  config: Config<K, V, E, R>,
  key: K,
  load: Load
): Effect.Effect<V, E, R> => Effect.zipRight(FiberRef.set(currentLoad, load), Effect.suspend(() => config.lookup(key)))

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
    new Error(`The lookup of key ${show(key)} interrupted itself; a lookup must succeed or fail.`)
  )
}
