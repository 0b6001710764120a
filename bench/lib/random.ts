/**
 * Seeded access sequences. Every implementation of a case reads the same sequence, computed
 * before timing starts, so that key generation never shows up in a measurement and runs are
 * repeatable.
 */

/** A 32-bit generator (mulberry32): fast, seedable, and good enough to spread keys evenly. */
export const rng = (seed: number): () => number => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The key of index `i`, as every case names keys. */
export const key = (i: number): string => "k" + i

/** `n` keys `"k0"`, `"k1"`, …, allocated once and shared by every lookup of a case. */
export const keys = (n: number): Array<string> => {
  const out = new Array<string>(n)
  for (let i = 0; i < n; i++) out[i] = key(i)
  return out
}

/** `length` picks uniform over `[0, keyspace)`, as key strings from `names`. */
export const uniform = (names: ReadonlyArray<string>, length: number, seed: number): Array<string> => {
  const next = rng(seed)
  const n = names.length
  const out = new Array<string>(length)
  for (let i = 0; i < length; i++) out[i] = names[Math.floor(next() * n)]!
  return out
}

/**
 * `length` picks over `names` with Zipf's law of exponent `s`: rank `r` (from 1) is drawn with
 * probability proportional to `1 / r^s`. Sampled by binary search on the cumulative weights,
 * which is exact (no rejection approximation), so the workload is the same on every machine.
 */
export const zipf = (names: ReadonlyArray<string>, length: number, s: number, seed: number): Array<string> => {
  const n = names.length
  const cdf = new Float64Array(n)
  let total = 0
  for (let r = 0; r < n; r++) {
    total += 1 / Math.pow(r + 1, s)
    cdf[r] = total
  }
  const next = rng(seed)
  const out = new Array<string>(length)
  for (let i = 0; i < length; i++) {
    const u = next() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    out[i] = names[lo]!
  }
  return out
}
