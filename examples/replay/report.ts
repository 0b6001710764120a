/**
 * The replay's result, as a table for people or one JSON object for scripts.
 */

/** What one replay measured. */
export interface ReplayReport {
  /** The trace file as given, or a description of the generated workload. */
  readonly trace: string
  /** The trace format, or `zipf` for the generated workload. */
  readonly format: string
  readonly capacity: number
  /** `get` calls made: one per request of the trace. */
  readonly requests: number
  readonly hits: number
  readonly misses: number
  /** `hits / requests`, a fraction from 0 to 1 (0 for an empty trace). */
  readonly hitRatio: number
  /** Times the loader (the stand-in for the origin) ran. */
  readonly loads: number
  /** Entries evicted to stay within `capacity`. */
  readonly evictions: number
  /** Wall time of the whole replay (reading, decoding and `get`s), in milliseconds. */
  readonly wallMs: number
  readonly requestsPerSecond: number
}

/** Counts gathered by a replay, before the derived figures. */
export interface ReplayCounts {
  readonly requests: number
  readonly hits: number
  readonly misses: number
  readonly loads: number
  readonly evictions: number
}

/** Builds the report from the counts and the elapsed wall time. */
export const makeReport = (
  source: { readonly trace: string; readonly format: string; readonly capacity: number },
  counts: ReplayCounts,
  wallMs: number
): ReplayReport => ({
  ...source,
  ...counts,
  hitRatio: counts.requests === 0 ? 0 : counts.hits / counts.requests,
  wallMs,
  requestsPerSecond: wallMs > 0 ? counts.requests / (wallMs / 1000) : 0
})

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })

/** The report as a title line and an aligned two-column table, one figure per row. */
export const formatTable = (report: ReplayReport): string => {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["requests", integer.format(report.requests)],
    ["hits", integer.format(report.hits)],
    ["misses", integer.format(report.misses)],
    ["hit ratio", `${(report.hitRatio * 100).toFixed(2)} %`],
    ["loads", integer.format(report.loads)],
    ["evictions", integer.format(report.evictions)],
    ["wall time", `${(report.wallMs / 1000).toFixed(2)} s`],
    ["requests/s", integer.format(report.requestsPerSecond)]
  ]
  const labelWidth = Math.max(...rows.map(([label]) => label.length))
  const valueWidth = Math.max(5, ...rows.map(([, value]) => value.length))
  const title = `${report.trace} (${report.format}), capacity ${integer.format(report.capacity)}`
  const rule = `${"─".repeat(labelWidth + 2)}┼${"─".repeat(valueWidth + 2)}`
  const line = ([label, value]: readonly [string, string]) =>
    ` ${label.padEnd(labelWidth)} │ ${value.padStart(valueWidth)}`
  return [title, "", line(["metric", "value"]), rule, ...rows.map(line)].join("\n")
}

/** The report as one line of JSON, with numbers unformatted. */
export const formatJson = (report: ReplayReport): string =>
  JSON.stringify({
    ...report,
    wallMs: Math.round(report.wallMs * 100) / 100,
    requestsPerSecond: Math.round(report.requestsPerSecond)
  })
