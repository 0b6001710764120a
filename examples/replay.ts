/**
 * Replays a cache access trace through a ChronoCache and reports its hit ratio and speed.
 *
 *   npm start                                   # a generated Zipf workload
 *   npm start -- --trace path/to/OLTP.lis.gz --capacity 2000
 *   npm start -- --trace path/to/web07.trace.gz --format int32be --json
 *   npm start -- --help
 *
 * Every request is one `get` on a cache of `--capacity` entries whose loader stands for the
 * origin. The cache is an exact LRU, so the hit ratio matches any other exact LRU's on the
 * same trace.
 */
import { Command, Options, ValidationError } from "@effect/cli"
import type { FileSystem } from "@effect/platform"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Duration, Effect, Option } from "effect"
import type { ChronoCacheError, InvalidOptionsError } from "../src/index.js"
import type { TraceFormat } from "./replay/formats.js"
import { traceFormats } from "./replay/formats.js"
import { progressBar } from "./replay/progress.js"
import type { ReplayReport } from "./replay/report.js"
import { formatJson, formatTable, makeReport } from "./replay/report.js"
import { replayKeys } from "./replay/run.js"
import { openTrace, ReplayError } from "./replay/trace.js"
import type { ZipfWorkload } from "./replay/zipf.js"
import { describeWorkload, validateWorkload, zipfStream } from "./replay/zipf.js"

const trace = Options.file("trace").pipe(
  Options.withDescription(
    "A trace file to replay (plain or gzip). Without it, a generated Zipf workload is replayed."
  ),
  Options.optional
)

const format = Options.choice("format", traceFormats).pipe(
  Options.withDescription(
    "The trace format, when the file name does not tell it (.trace is lirs, .lis is arc). " +
      "Binary traces (e.g. cache2k's web07, int32be) always need it."
  ),
  Options.optional
)

const capacity = Options.integer("capacity").pipe(
  Options.withDescription("The most entries the cache keeps."),
  Options.withDefault(1000)
)

const json = Options.boolean("json").pipe(
  Options.withDescription("Print one JSON object instead of the table.")
)

const requests = Options.integer("requests").pipe(
  Options.withDescription("Generated workload only: number of requests."),
  Options.withDefault(500_000)
)

const keys = Options.integer("keys").pipe(
  Options.withDescription("Generated workload only: number of distinct keys."),
  Options.withDefault(50_000)
)

const skew = Options.float("skew").pipe(
  Options.withDescription("Generated workload only: the Zipf exponent s (0 is uniform)."),
  Options.withDefault(0.9)
)

const seed = Options.integer("seed").pipe(
  Options.withDescription("Generated workload only: the seed of the generator."),
  Options.withDefault(42)
)

interface Arguments {
  readonly trace: Option.Option<string>
  readonly format: Option.Option<TraceFormat>
  readonly capacity: number
  readonly workload: ZipfWorkload
}

/** Replays the trace file, or the generated workload, and reports. */
const replay = (
  args: Arguments
): Effect.Effect<ReplayReport, ReplayError | InvalidOptionsError | ChronoCacheError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    if (Option.isSome(args.trace)) {
      const opened = yield* openTrace(args.trace.value, Option.getOrUndefined(args.format))
      const progress = yield* progressBar(opened.size, "bytes")
      const [elapsed, counts] = yield* Effect.timed(
        replayKeys(opened.keys, args.capacity, (done) => progress.update(opened.bytesRead(), done))
      )
      const source = { trace: opened.path, format: opened.format, capacity: args.capacity }
      return makeReport(source, counts, Duration.toMillis(elapsed))
    }
    const invalid = validateWorkload(args.workload)
    if (invalid !== undefined) return yield* new ReplayError({ message: invalid })
    const progress = yield* progressBar(args.workload.requests, "requests")
    const [elapsed, counts] = yield* Effect.timed(
      replayKeys(zipfStream(args.workload), args.capacity, (done) => progress.update(done, done))
    )
    const source = { trace: describeWorkload(args.workload), format: "zipf", capacity: args.capacity }
    return makeReport(source, counts, Duration.toMillis(elapsed))
  }).pipe(Effect.scoped)

const command = Command.make(
  "replay",
  { trace, format, capacity, json, requests, keys, skew, seed },
  (options) =>
    replay({
      trace: options.trace,
      format: options.format,
      capacity: options.capacity,
      workload: { requests: options.requests, keys: options.keys, skew: options.skew, seed: options.seed }
    }).pipe(
      Effect.flatMap((report) => Console.log(options.json ? formatJson(report) : formatTable(report))),
      // Expected failures (a bad file, a malformed line, a bad option): one line, no stack.
      Effect.catchAll((error) =>
        Console.error(`replay: ${error.message}`).pipe(Effect.zipRight(Effect.sync(() => {
          process.exitCode = 1
        })))
      )
    )
).pipe(Command.withDescription("Replays a cache access trace through a ChronoCache and reports the hit ratio."))

const cli = Command.run(command, { name: "replay", version: "0.1.0" })

cli(process.argv).pipe(
  // @effect/cli has already printed what is wrong with the command line.
  Effect.catchIf(ValidationError.isValidationError, () =>
    Effect.sync(() => {
      process.exitCode = 1
    })),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
