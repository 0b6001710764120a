/**
 * The replay's built-in workload: keys drawn from a Zipf distribution (key `k`, counting
 * from 0, is requested with probability proportional to `1 / (k + 1)^skew`) by a seeded
 * pseudo-random generator, so that one seed always gives the same trace on every machine.
 */
import { Option, Stream } from "effect"

/** The shape of a generated workload. */
export interface ZipfOptions {
  /** Number of distinct keys, at least 1. Keys are `0 … keys - 1`, `0` the most popular. */
  readonly keys: number
  /** The exponent `s`; 0 is uniform, around 1 is typical of web and database traces. */
  readonly skew: number
  /** Any integer; equal seeds give equal sequences. */
  readonly seed: number
}

/** A generated trace: a workload shape and its length. */
export interface ZipfWorkload extends ZipfOptions {
  /** Number of requests. */
  readonly requests: number
}

/** What is wrong with a workload's options, or `undefined` when they are usable. */
export const validateWorkload = (workload: ZipfWorkload): string | undefined => {
  if (!Number.isSafeInteger(workload.requests) || workload.requests < 0) {
    return `--requests must be a non-negative integer, got ${workload.requests}`
  }
  if (!Number.isSafeInteger(workload.keys) || workload.keys < 1 || workload.keys > 1 << 26) {
    return `--keys must be an integer from 1 to ${1 << 26}, got ${workload.keys}`
  }
  if (!Number.isFinite(workload.skew) || workload.skew < 0) {
    return `--skew must be a finite number of at least 0, got ${workload.skew}`
  }
  if (!Number.isSafeInteger(workload.seed)) return `--seed must be an integer, got ${workload.seed}`
  return undefined
}

/**
 * A seeded generator of doubles in `[0, 1)`: a 32-bit Weyl sequence passed through an
 * avalanching integer mix. Small and fast; fine for workloads, not for cryptography.
 */
export const makeRandom = (seed: number): () => number => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    z ^= z >>> 16
    return (z >>> 0) / 4294967296
  }
}

/**
 * A generator of Zipf-distributed keys. It samples by inverting the cumulative
 * distribution (a table of `keys` doubles and a binary search per draw): exact, and
 * a few million draws per second.
 */
export const makeZipf = (options: ZipfOptions): () => number => {
  const cumulative = new Float64Array(options.keys)
  let total = 0
  for (let k = 0; k < options.keys; k++) {
    total += 1 / Math.pow(k + 1, options.skew)
    cumulative[k] = total
  }
  const random = makeRandom(options.seed)
  const last = options.keys - 1
  return () => {
    const target = random() * total
    let low = 0
    let high = last
    while (low < high) {
      const middle = (low + high) >>> 1
      if (cumulative[middle]! > target) high = middle
      else low = middle + 1
    }
    return low
  }
}

/** The workload's keys as a lazy stream of batches of at most `batchSize` keys. */
export const zipfStream = (
  workload: ZipfWorkload,
  batchSize = 8192
): Stream.Stream<ReadonlyArray<number>> =>
  Stream.suspend(() => {
    const next = makeZipf(workload)
    return Stream.unfold(workload.requests, (left) => {
      if (left <= 0) return Option.none()
      const batch = new Array<number>(Math.min(batchSize, left))
      for (let i = 0; i < batch.length; i++) batch[i] = next()
      return Option.some([batch, left - batch.length] as const)
    })
  })

/** A short description of a workload, e.g. `zipf(s=0.9, keys=100000, seed=42)`. */
export const describeWorkload = (workload: ZipfWorkload): string =>
  `zipf(s=${workload.skew}, keys=${workload.keys}, seed=${workload.seed})`
