/**
 * Scheduler helpers for tests: let other fibers run without advancing any clock.
 *
 * Forked fibers start on a later turn of the scheduler, and a completed `Deferred` resumes
 * its waiters on a later turn too. These helpers yield turns until a condition holds, with a
 * bound, so that a behaviour that never happens fails the test quickly instead of hanging it.
 */
import { Effect, Fiber, Option } from "effect"

const MAX_TURNS = 10_000

/** Yields `turns` turns of the scheduler, so that every runnable fiber gets to run. */
export const settle = (turns = 100): Effect.Effect<void> => Effect.repeatN(Effect.yieldNow(), turns - 1)

/**
 * Yields until `condition` holds. Dies, naming `what`, if it still does not hold after many
 * turns: whatever it waits for is not going to happen without the clock moving.
 */
export const waitUntil = <E, R>(
  condition: Effect.Effect<boolean, E, R>,
  what: string
): Effect.Effect<void, E, R> =>
  Effect.gen(function*() {
    for (let turn = 0; turn < MAX_TURNS; turn++) {
      if (yield* condition) return
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage(`waitUntil: ${what} did not happen`)
  })

/** Whether every fiber in `fibers` has finished. */
export const allDone = (fibers: ReadonlyArray<Fiber.Fiber<unknown, unknown>>): Effect.Effect<boolean> =>
  Effect.map(Effect.forEach(fibers, Fiber.poll), (polls) => polls.every(Option.isSome))

/** Whether no fiber in `fibers` has finished. */
export const noneDone = (fibers: ReadonlyArray<Fiber.Fiber<unknown, unknown>>): Effect.Effect<boolean> =>
  Effect.map(Effect.forEach(fibers, Fiber.poll), (polls) => polls.every(Option.isNone))
