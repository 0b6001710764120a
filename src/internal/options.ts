/**
 * Raw options -> validated configuration, or `InvalidOptionsError`.
 *
 * `Duration.decode` turns a negative input into a zero duration without complaint, so every
 * duration is checked for a sign on its raw input first.
 */
import { Duration, Effect } from "effect"
import type * as Exit from "effect/Exit"
import { InvalidOptionsError } from "../CacheError.js"
import type { AbandonedLoads, Options } from "../ChronoCache.js"
import { show, showThrown } from "./show.js"

/** @internal */
export interface Config<K, V, E, R> {
  readonly lookup: (key: K) => Effect.Effect<V, E, R>
  readonly capacity: number
  /** Time-to-live of successes in millis (`Infinity`: never), when given as a duration. */
  readonly timeToLiveMillis: number
  /** Time-to-live as a function of the load's exit, when given as one. */
  readonly timeToLiveFn: ((exit: Exit.Exit<V, E>, key: K) => Duration.DurationInput) | undefined
  /** Time-to-idle in millis (`Infinity`: never). */
  readonly timeToIdleMillis: number
  readonly loadTimeout: Duration.Duration | undefined
  readonly weakValues: boolean
  readonly cleanupQueueCapacity: number
  readonly abandonedLoads: AbandonedLoads
  readonly sweepInterval: Duration.Duration
  readonly name: string | undefined
  /** Whether any time limit applies (time-to-live or time-to-idle): entries then carry times. */
  readonly timed: boolean
}

const invalid = (option: string, reason: string) => new InvalidOptionsError({ option, reason })

const isNegative = (input: unknown): boolean => {
  if (typeof input === "number") return input < 0
  if (typeof input === "bigint") return input < 0n
  if (typeof input === "string") return /^\s*-/.test(input)
  if (Array.isArray(input)) return input.some((part) => typeof part === "number" && !(part >= 0))
  return false
}

/**
 * Decodes a duration option, refusing negative, NaN and malformed inputs.
 *
 * @internal
 */
export const decodeDuration = (
  option: string,
  input: unknown
): Effect.Effect<Duration.Duration, InvalidOptionsError> =>
  Effect.suspend(() => {
    try {
      if (
        (typeof input === "number" && Number.isNaN(input)) ||
        (Array.isArray(input) && input.some((part) => typeof part === "number" && Number.isNaN(part)))
      ) {
        return Effect.fail(invalid(option, "must be a duration, got NaN"))
      }
      if (isNegative(input)) {
        return Effect.fail(invalid(option, `must not be negative, got ${show(input)}`))
      }
      return Effect.succeed(Duration.decode(input as Duration.DurationInput))
    } catch {
      // Malformed, or a value whose inspection throws (a revoked Proxy, say).
      return Effect.fail(
        invalid(option, `must be a duration such as "5 minutes" or 1000 (millis), got ${show(input)}`)
      )
    }
  })

/**
 * Millis of a duration returned by a user's time-to-live function at run time. A negative
 * or malformed answer counts as zero (the result is not kept).
 *
 * @internal
 */
export const millisOfUserDuration = (input: Duration.DurationInput): number => {
  try {
    if (isNegative(input) || (typeof input === "number" && Number.isNaN(input))) return 0
    return Duration.toMillis(Duration.decode(input))
  } catch {
    return 0
  }
}

const positive = (option: string, input: unknown, fallback: Duration.Duration) =>
  input === undefined ? Effect.succeed(fallback) : decodeDuration(option, input).pipe(
    Effect.filterOrFail(
      (d) => Duration.toMillis(d) > 0 && Duration.isFinite(d),
      () => invalid(option, `must be a positive, finite duration, got ${show(input)}`)
    )
  )

/** @internal */
export const validate = <K, V, E, R>(
  options: Options<K, V, E, R>
): Effect.Effect<Config<K, V, E, R>, InvalidOptionsError> =>
  Effect.gen(function*() {
    if (typeof options !== "object" || options === null) {
      return yield* Effect.fail(invalid("options", "must be an object with at least `lookup` and `capacity`"))
    }
    if (typeof options.lookup !== "function") {
      return yield* Effect.fail(invalid("lookup", "is required: a function from a key to an Effect"))
    }
    const capacity = options.capacity
    if (typeof capacity !== "number" || !Number.isSafeInteger(capacity) || capacity < 0) {
      return yield* Effect.fail(
        invalid("capacity", `must be a non-negative integer, got ${show(capacity)}`)
      )
    }
    let timeToLiveMillis = Infinity
    let timeToLiveFn: Config<K, V, E, R>["timeToLiveFn"] = undefined
    if (typeof options.timeToLive === "function") {
      timeToLiveFn = options.timeToLive
    } else if (options.timeToLive !== undefined) {
      timeToLiveMillis = Duration.toMillis(yield* decodeDuration("timeToLive", options.timeToLive))
    }
    const timeToIdleMillis = options.timeToIdle === undefined
      ? Infinity
      : Duration.toMillis(yield* decodeDuration("timeToIdle", options.timeToIdle))
    // An infinite load timeout is the same as none.
    const loadTimeout = options.loadTimeout === undefined
      ? undefined
      : yield* decodeDuration("loadTimeout", options.loadTimeout).pipe(
        Effect.filterOrFail(
          (d) => Duration.toMillis(d) > 0,
          () => invalid("loadTimeout", `must be a positive duration, got ${show(options.loadTimeout)}`)
        ),
        Effect.map((d) => Duration.isFinite(d) ? d : undefined)
      )
    const sweepInterval = yield* positive("sweepInterval", options.sweepInterval, Duration.seconds(1))
    if (options.weakValues !== undefined && typeof options.weakValues !== "boolean") {
      return yield* Effect.fail(invalid("weakValues", `must be a boolean, got ${show(options.weakValues)}`))
    }
    const cleanupQueueCapacity = options.cleanupQueueCapacity ?? 1024
    if (!Number.isSafeInteger(cleanupQueueCapacity) || cleanupQueueCapacity < 1) {
      return yield* Effect.fail(
        invalid("cleanupQueueCapacity", `must be a positive integer, got ${show(cleanupQueueCapacity)}`)
      )
    }
    const abandonedLoads = options.abandonedLoads ?? "complete"
    if (abandonedLoads !== "complete" && abandonedLoads !== "interrupt") {
      return yield* Effect.fail(
        invalid("abandonedLoads", `must be "complete" or "interrupt", got ${show(abandonedLoads)}`)
      )
    }
    if (options.name !== undefined && typeof options.name !== "string") {
      return yield* Effect.fail(invalid("name", "must be a string"))
    }
    return {
      lookup: options.lookup,
      capacity,
      timeToLiveMillis,
      timeToLiveFn,
      timeToIdleMillis,
      loadTimeout,
      weakValues: options.weakValues ?? false,
      cleanupQueueCapacity,
      abandonedLoads,
      sweepInterval,
      name: options.name,
      timed: timeToLiveFn !== undefined || timeToLiveMillis !== Infinity || timeToIdleMillis !== Infinity
    }
  }).pipe(
    // Options whose reading throws (a getter, a revoked Proxy) are invalid options too.
    Effect.catchAllDefect((defect) => Effect.fail(invalid("options", `could not be read: ${showThrown(defect)}`)))
  )
