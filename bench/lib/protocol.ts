/**
 * What a case is, and what a case process reports to the driver. A case process prints one
 * JSON line per measurement on stdout; the driver ignores every other line, so a case may
 * print progress or logs freely.
 */

/** How a case is scheduled by the driver. */
export type CaseKind =
  /** A steady-state loop timed with mitata; repeated in several processes, rotating order. */
  | "throughput"
  /** One timed or measured run per process, after warm-up; repeated like throughput. */
  | "single"
  /** Deterministic (hit ratios): one process per implementation is enough. */
  | "once"

/** What a case process learns from the driver. */
export interface CaseContext {
  /** Smoke-run sizes: fewer operations and smaller structures. */
  readonly quick: boolean
}

/** One figure of one implementation. Lower is better unless the unit says otherwise. */
export interface Measurement {
  /** What was measured: `"time"`, `"bytes"`, or a variant such as `"OLTP@1000"`. */
  readonly metric: string
  readonly value: number
  /** How many times the loader ran, where the case counts it. */
  readonly loads?: number
  /** Requests made, for hit ratios. */
  readonly requests?: number
  /** Something the reader of the results should know (a miss in a hit case, say). */
  readonly note?: string
}

/** A benchmark case: a scenario and the implementations that run it. */
export interface CaseDef {
  readonly name: string
  /** One line saying what the case does, for the results. */
  readonly title: string
  readonly kind: CaseKind
  /** The unit of `value`, as printed. */
  readonly unit: "ns/op" | "ms" | "bytes/entry" | "hit %"
  readonly impls: ReadonlyArray<string>
  /**
   * At most this many rounds, for slow cases whose figure barely moves between processes
   * (memory, the long replay). Default: every round.
   */
  readonly maxRounds?: number
  /** Traces the case reads; the driver skips the case when one is missing. */
  readonly traces?: ReadonlyArray<string>
  readonly run: (impl: string, ctx: CaseContext) => Promise<ReadonlyArray<Measurement>>
}

/** The line a case process prints for one measurement. */
export interface ResultLine extends Measurement {
  readonly case: string
  readonly impl: string
}

/** The line a case process prints when it cannot run an implementation. */
export interface SkipLine {
  readonly case: string
  readonly impl: string
  readonly skipped: string
}
