/**
 * Timing helpers shared by the cases.
 */
import { measure } from "mitata"

/**
 * Nanoseconds per operation of `block`, which performs `ops` operations per call.
 *
 * Batching many operations per call keeps the clock reads and mitata's loop out of the
 * figure, and lets an Effect loop pay `runSync` once per block rather than once per read.
 * An explicit warm-up first lets V8 reach its optimizing tier before any sample is kept;
 * the median sample is returned because single samples can be hit by a GC pause.
 */
export const nsPerOp = async (block: () => unknown, ops: number, quick: boolean): Promise<number> => {
  const warmUntil = performance.now() + (quick ? 100 : 500)
  while (performance.now() < warmUntil) {
    const r = block()
    if (r instanceof Promise) await r
  }
  const stats = await measure(block, {
    min_cpu_time: (quick ? 150 : 700) * 1e6,
    min_samples: quick ? 12 : 30
  })
  return stats.p50 / ops
}

/** Runs a full garbage collection several times, so that weak and finalized memory is gone. */
export const fullGc = (): void => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("run the case with node --expose-gc")
  for (let i = 0; i < 4; i++) gc()
}

/** Bytes held by the JavaScript heap and by array buffers (typed arrays live there). */
export const heapBytes = (): number => {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/** Wall-clock milliseconds of an async action. */
export const wallMs = async (action: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await action()
  return performance.now() - t0
}
