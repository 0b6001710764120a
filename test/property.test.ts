/**
 * Property test: random programs against the reference model (test/utils/model.ts).
 *
 * A program is a random cache configuration and a list of operations: gets, refreshes, reads,
 * sets, invalidations, the end of a running load (success, failure, defect, or the loader
 * interrupting itself), the interruption of a waiting caller, and steps of the `TestClock`.
 * A load that no step ends hangs until its `loadTimeout`. Every load waits on a gate of its
 * own, so the program, not the scheduler, decides the order of events.
 *
 * After every step the cache and the model must agree on every caller's answer (and on who
 * is still waiting), on which loads were started, on `size` (never above `capacity`) and on
 * the loads in flight. At the end the clock moves past `loadTimeout` (or, without one, every
 * load is let through): then every caller has an answer, no load is left running, every
 * loader has ended, and the counters agree with the model.
 *
 * `NUM_RUNS` sets the number of programs (default 1000); `npm run test:property-long` runs
 * many more.
 */
import { describe, it } from "@effect/vitest"
import { Cause, Data, Deferred, Effect, Exit, Fiber, FiberId, Logger, Option, TestClock, TestContext } from "effect"
import fc from "fast-check"
import { ChronoCache, LoadTimeoutError } from "../src/index.js"
import { type Answer, Model, type ModelOptions, type Outcome } from "./utils/model.js"
import { settle } from "./utils/scheduling.js"

const NUM_RUNS = Number(process.env["NUM_RUNS"] ?? 1000)
const SEED = process.env["PROPERTY_SEED"] === undefined ? undefined : Number(process.env["PROPERTY_SEED"])
const MAX_COMMANDS = 40
/** Scheduler turns after each step: enough for a load's end to reach every waiter. */
const TURNS = 30

class LoadFailed extends Data.TaggedError("LoadFailed")<{ readonly load: number }> {}

class LoadDied extends Error {
  constructor(readonly load: number) {
    super(`load ${load} died`)
  }
}

type Command =
  | { readonly _tag: "Get"; readonly key: string }
  | { readonly _tag: "GetPromise"; readonly key: string }
  | { readonly _tag: "Refresh"; readonly key: string }
  | { readonly _tag: "GetOption"; readonly key: string }
  | { readonly _tag: "Contains"; readonly key: string }
  | { readonly _tag: "Set"; readonly key: string }
  | { readonly _tag: "Invalidate"; readonly key: string }
  | { readonly _tag: "InvalidateAll" }
  | { readonly _tag: "Complete"; readonly pick: number; readonly outcome: Outcome }
  | { readonly _tag: "Interrupt"; readonly pick: number }
  | { readonly _tag: "Adjust"; readonly millis: number }

interface Program {
  readonly options: ModelOptions
  readonly commands: ReadonlyArray<Command>
}

const keyArb = fc.constantFrom("a", "b", "c")
const pickArb = fc.nat({ max: 7 })

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 7, arbitrary: keyArb.map((key): Command => ({ _tag: "Get", key })) },
  { weight: 2, arbitrary: keyArb.map((key): Command => ({ _tag: "GetPromise", key })) },
  { weight: 3, arbitrary: keyArb.map((key): Command => ({ _tag: "Refresh", key })) },
  { weight: 3, arbitrary: keyArb.map((key): Command => ({ _tag: "GetOption", key })) },
  { weight: 1, arbitrary: keyArb.map((key): Command => ({ _tag: "Contains", key })) },
  { weight: 3, arbitrary: keyArb.map((key): Command => ({ _tag: "Set", key })) },
  { weight: 2, arbitrary: keyArb.map((key): Command => ({ _tag: "Invalidate", key })) },
  { weight: 1, arbitrary: fc.constant<Command>({ _tag: "InvalidateAll" }) },
  {
    weight: 9,
    arbitrary: fc.record({
      _tag: fc.constant("Complete" as const),
      pick: pickArb,
      outcome: fc.constantFrom<Outcome>(
        "success",
        "success",
        "success",
        "success",
        "failure",
        "defect",
        "selfInterrupt"
      )
    })
  },
  { weight: 3, arbitrary: pickArb.map((pick): Command => ({ _tag: "Interrupt", pick })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(1, 20, 50, 120).map((millis): Command => ({ _tag: "Adjust", millis }))
  }
)

const optionsArb: fc.Arbitrary<ModelOptions> = fc.record({
  capacity: fc.constantFrom(0, 1, 2, 2, 3, 3),
  loadTimeout: fc.option(fc.constantFrom(100, 150), { nil: undefined, freq: 5 }),
  timeToLive: fc.option(fc.constantFrom(0, 60, 200), { nil: undefined, freq: 2 }),
  sweepInterval: fc.constantFrom(100, 250),
  abandonedLoads: fc.constantFrom("complete" as const, "interrupt" as const)
})

const programArb: fc.Arbitrary<Program> = fc.record({
  options: optionsArb,
  commands: fc.array(commandArb, { minLength: 1, maxLength: MAX_COMMANDS, size: "max" })
})

/** What the loader of load `id` does once the program lets it finish. */
const behave = (key: string, id: number, outcome: Outcome): Effect.Effect<string, LoadFailed> => {
  switch (outcome) {
    case "success":
      return Effect.succeed(`${key}#${id}`)
    case "failure":
      return Effect.fail(new LoadFailed({ load: id }))
    case "defect":
      return Effect.die(new LoadDied(id))
    case "selfInterrupt":
      return Effect.interrupt
  }
}

const describeExit = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isSuccess(exit) ? `success ${String(exit.value)}` : Cause.pretty(exit.cause).split("\n")[0]!

const matches = (exit: Exit.Exit<unknown, unknown>, answer: Answer): boolean => {
  if (answer._tag === "Value") return Exit.isSuccess(exit) && exit.value === answer.value
  if (answer._tag === "Refreshed") return Exit.isSuccess(exit) && exit.value === undefined
  if (Exit.isSuccess(exit)) return false
  const cause = exit.cause
  if (answer._tag === "Interrupted") return Cause.isInterruptedOnly(cause)
  if (Cause.isInterrupted(cause)) return false // nobody else's interruption may reach a waiter
  const failure = Option.getOrUndefined(Cause.failureOption(cause))
  const defect = Option.getOrUndefined(Cause.dieOption(cause))
  switch (answer._tag) {
    case "Failure":
      return failure instanceof LoadFailed && failure.load === answer.load
    case "Defect":
      return defect instanceof LoadDied && defect.load === answer.load
    case "SelfInterrupted":
      return defect !== undefined && !(defect instanceof LoadDied)
    case "Timeout":
      return failure instanceof LoadTimeoutError && failure.key === answer.key
  }
}

/** How a `getPromise` caller's promise settled. */
type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown }

const describeSettled = (settled: Settled): string =>
  settled.ok ? `resolved ${String(settled.value)}` : `rejected ${String(settled.error)}`

/**
 * A promise rejects with the typed error itself or the defect itself, never a wrapper, and
 * with the signal's `reason` when its signal fired.
 */
const matchesPromise = (settled: Settled, answer: Answer, reason: unknown): boolean => {
  if (settled.ok) return answer._tag === "Value" && settled.value === answer.value
  const error = settled.error
  switch (answer._tag) {
    case "Value":
    case "Refreshed":
      return false
    case "Interrupted":
      return error === reason
    case "Failure":
      return error instanceof LoadFailed && error.load === answer.load
    case "Defect":
      return error instanceof LoadDied && error.load === answer.load
    case "SelfInterrupted":
      return error instanceof Error && !(error instanceof LoadDied) && !(error instanceof LoadFailed)
    case "Timeout":
      return error instanceof LoadTimeoutError && error.key === answer.key
  }
}

/** A caller of the program: a fiber running an Effect member, or a `getPromise` caller. */
type Caller =
  | { readonly _tag: "Fiber"; readonly fiber: Fiber.RuntimeFiber<unknown, unknown> }
  | {
    readonly _tag: "Promise"
    readonly controller: AbortController
    readonly reason: Error
    settled: Settled | undefined
  }

/** One call of the lookup, as the loader saw it. */
interface LoaderRecord {
  readonly key: string
  readonly gate: Deferred.Deferred<Outcome>
  outcome: Outcome | undefined
  ended: boolean
  interrupted: boolean
}

const runProgram = ({ commands, options }: Program): Effect.Effect<void, unknown> =>
  Effect.gen(function*() {
    const model = new Model(options)
    const records: Array<LoaderRecord> = []
    const lookup = (key: string): Effect.Effect<string, LoadFailed> =>
      Effect.suspend(() => {
        const id = records.length
        const record: LoaderRecord = {
          key,
          gate: Deferred.unsafeMake(FiberId.none),
          outcome: undefined,
          ended: false,
          interrupted: false
        }
        records.push(record)
        return Deferred.await(record.gate).pipe(
          Effect.flatMap((outcome) => behave(key, id, outcome)),
          Effect.onExit(() => Effect.sync(() => (record.ended = true))),
          Effect.onInterrupt(() => Effect.sync(() => (record.interrupted = true)))
        )
      })
    const cache = yield* ChronoCache.make({
      lookup,
      capacity: options.capacity,
      loadTimeout: options.loadTimeout,
      timeToLive: options.timeToLive,
      sweepInterval: options.sweepInterval,
      abandonedLoads: options.abandonedLoads
    })
    const callers: Array<Caller> = []
    const answered: Array<boolean> = []
    const trace: Array<string> = []

    const fail = (message: string) =>
      Effect.die(
        new Error(
          `${message}\n  options: ${JSON.stringify(options)}\n  steps:\n    ${
            trace.join("\n    ")
          }\n  model now ${model.now}`
        )
      )

    const check = Effect.gen(function*() {
      if (records.length !== model.loads.length) {
        return yield* fail(`the cache started ${records.length} loads, the model ${model.loads.length}`)
      }
      for (let id = 0; id < records.length; id++) {
        if (records[id]!.key !== model.loads[id]!.key) {
          return yield* fail(`load ${id} is for ${records[id]!.key}, the model says ${model.loads[id]!.key}`)
        }
      }
      for (let id = 0; id < callers.length; id++) {
        if (answered[id]) continue
        const caller = callers[id]!
        const exit = caller._tag === "Fiber" ? caller.fiber.unsafePoll() : caller.settled
        const expected = model.answer(id)
        const got = exit === null || exit === undefined
          ? "nothing yet"
          : caller._tag === "Fiber"
          ? describeExit(exit as Exit.Exit<unknown, unknown>)
          : describeSettled(exit as Settled)
        if (expected === undefined) {
          if (exit === null || exit === undefined) continue
          return yield* fail(`caller ${id} got ${got}, the model has it waiting`)
        }
        const ok = exit !== null && exit !== undefined && (caller._tag === "Fiber"
          ? matches(exit as Exit.Exit<unknown, unknown>, expected)
          : matchesPromise(exit as Settled, expected, caller.reason))
        if (!ok) {
          return yield* fail(`caller ${id} (${caller._tag}) got ${got}, the model says ${JSON.stringify(expected)}`)
        }
        answered[id] = true
      }
      const size = yield* cache.size
      if (size > options.capacity) return yield* fail(`size ${size} is above capacity ${options.capacity}`)
      if (size !== model.size) return yield* fail(`size ${size}, the model says ${model.size}`)
      const pending = (yield* cache.cacheStats).pendingLoads
      if (pending !== model.running().length) {
        return yield* fail(`${pending} loads in flight, the model says ${model.running().length}`)
      }
    })

    const release = (id: number, outcome: Outcome) =>
      Effect.suspend(() => {
        const record = records[id]
        if (record === undefined) return fail(`load ${id} was never started by the cache`)
        record.outcome = outcome
        model.complete(id, outcome)
        return Deferred.succeed(record.gate, outcome)
      })

    const fork = (effect: Effect.Effect<unknown, unknown>) =>
      Effect.map(Effect.fork(effect), (fiber) => {
        callers.push({ _tag: "Fiber", fiber })
        answered.push(false)
      })

    /** A `getPromise` call from plain code, with a signal that `Interrupt` fires. */
    const callPromise = (key: string) =>
      Effect.sync(() => {
        const controller = new AbortController()
        const reason = new Error(`caller ${callers.length} gave up`)
        const caller: Caller = { _tag: "Promise", controller, reason, settled: undefined }
        cache.getPromise(key, { signal: controller.signal }).then(
          (value) => (caller.settled = { ok: true, value }),
          (error: unknown) => (caller.settled = { ok: false, error })
        )
        callers.push(caller)
        answered.push(false)
      })

    for (const [step, command] of commands.entries()) {
      trace.push(`${step}: ${JSON.stringify(command)}`)
      switch (command._tag) {
        case "Get": {
          model.get(command.key)
          yield* fork(cache.get(command.key))
          break
        }
        case "GetPromise": {
          model.get(command.key)
          yield* callPromise(command.key)
          break
        }
        case "Refresh": {
          model.refresh(command.key)
          yield* fork(cache.refresh(command.key))
          break
        }
        case "GetOption": {
          const actual = Option.getOrUndefined(yield* cache.getOption(command.key))
          const expected = model.getOption(command.key)
          if (actual !== expected) return yield* fail(`getOption gave ${actual}, the model says ${expected}`)
          break
        }
        case "Contains": {
          const actual = yield* cache.contains(command.key)
          const expected = model.contains(command.key)
          if (actual !== expected) return yield* fail(`contains gave ${actual}, the model says ${expected}`)
          break
        }
        case "Set": {
          const value = `set${step}`
          model.set(command.key, value)
          yield* cache.set(command.key, value)
          break
        }
        case "Invalidate": {
          model.invalidate(command.key)
          yield* cache.invalidate(command.key)
          break
        }
        case "InvalidateAll": {
          model.invalidateAll()
          yield* cache.invalidateAll
          break
        }
        case "Complete": {
          const running = model.running()
          if (running.length === 0) break
          yield* release(running[command.pick % running.length]!.id, command.outcome)
          break
        }
        case "Interrupt": {
          const waiting = model.waiting()
          if (waiting.length === 0) break
          const id = waiting[command.pick % waiting.length]!
          model.interrupt(id)
          const caller = callers[id]!
          if (caller._tag === "Fiber") yield* Fiber.interrupt(caller.fiber)
          else caller.controller.abort(caller.reason)
          break
        }
        case "Adjust": {
          model.advance(command.millis)
          yield* TestClock.adjust(command.millis)
          break
        }
      }
      yield* settle(TURNS)
      yield* check
    }

    // The end: every load either times out or is let through, and every caller is answered.
    trace.push("end")
    if (options.loadTimeout !== undefined) {
      model.advance(options.loadTimeout)
      yield* TestClock.adjust(options.loadTimeout)
    } else {
      for (const load of model.running()) yield* release(load.id, "success")
    }
    yield* settle(TURNS)
    yield* check
    if (model.waiting().length > 0) return yield* fail("the model still has waiting callers")
    const stats = yield* cache.cacheStats
    const counters = ["hits", "misses", "joins", "loadSuccesses", "loadTimeouts"] as const
    for (const counter of counters) {
      if (stats[counter] !== model[counter]) {
        return yield* fail(`stats.${counter} is ${stats[counter]}, the model says ${model[counter]}`)
      }
    }
    for (const [id, record] of records.entries()) {
      if (!record.ended) return yield* fail(`the loader of load ${id} is still running`)
      const end = model.loads[id]!.end
      const interrupted = end === "timedOut" || end === "abandoned" || record.outcome === "selfInterrupt"
      if (record.interrupted !== interrupted) {
        return yield* fail(`the loader of load ${id} (${end}) was ${record.interrupted ? "" : "not "}interrupted`)
      }
    }
  }).pipe(
    Effect.scoped,
    Effect.provide(Logger.remove(Logger.defaultLogger)),
    Effect.provide(TestContext.TestContext)
  )

describe("ChronoCache", () => {
  it.effect(
    `property - random programs agree with the model, and every waiter gets an answer (${NUM_RUNS} runs)`,
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(programArb, (program) => Effect.runPromise(runProgram(program))),
          { numRuns: NUM_RUNS, ...(SEED === undefined ? {} : { seed: SEED }) }
        )
      ),
    { timeout: 120_000 + NUM_RUNS * 60 }
  )
})
