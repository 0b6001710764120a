/**
 * Summaries of the values of several rounds.
 */

/** Median, minimum and maximum of a non-empty list. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

/** The median (mean of the two middle values for an even count), minimum and maximum. */
export const summarize = (values: ReadonlyArray<number>): Summary => {
  if (values.length === 0) throw new Error("no values to summarize")
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length }
}
