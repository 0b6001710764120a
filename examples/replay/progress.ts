/**
 * A progress bar on standard error (drawn with `cli-progress`), scoped so that it is taken
 * down however the replay ends. Nothing is drawn when standard error is not a terminal.
 */
import cliProgress from "cli-progress"
import { Effect } from "effect"
import type { Scope } from "effect"

/** Moves a bar forward; a no-op when no bar is drawn. */
export interface Progress {
  /** Sets the bar to `value` of its total, with the number of requests replayed so far. */
  readonly update: (value: number, requests: number) => void
}

/**
 * Shows a bar going to `total` for as long as the scope is open. `unit` names what is
 * counted: `"bytes"` of a trace file, or `"requests"` of a generated workload.
 */
export const progressBar = (
  total: number,
  unit: "bytes" | "requests"
): Effect.Effect<Progress, never, Scope.Scope> => {
  if (process.stderr.isTTY !== true || total <= 0) return Effect.succeed({ update: () => {} })
  const format = unit === "bytes"
    ? "replay {bar} {percentage}% | {requests} requests | {megabytes} of {totalMegabytes} MB"
    : "replay {bar} {percentage}% | {requests} requests"
  return Effect.acquireRelease(
    Effect.sync(() => {
      const bar = new cliProgress.SingleBar({
        format,
        stream: process.stderr,
        clearOnComplete: true,
        hideCursor: true,
        fps: 10
      }, cliProgress.Presets.shades_classic)
      bar.start(total, 0, { requests: "0", megabytes: "0.0", totalMegabytes: megabytes(total) })
      return bar
    }),
    (bar) => Effect.sync(() => bar.stop())
  ).pipe(Effect.map((bar): Progress => ({
    update: (value, requests) => bar.update(value, { requests: count.format(requests), megabytes: megabytes(value) })
  })))
}

const count = new Intl.NumberFormat("en-US")

const megabytes = (bytes: number): string => (bytes / 1_048_576).toFixed(1)
