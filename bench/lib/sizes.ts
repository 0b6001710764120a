/**
 * Sizes of the scenarios, full and quick. The full sizes are the ones the results speak of;
 * quick sizes only check that every case runs.
 */

/** Reads per timed block: large enough to hide the per-block overhead, small enough to sample often. */
export const BLOCK = 1024

/** Entries of the hit scenarios (all present, uniform random reads). */
export const hitEntries = (quick: boolean): number => (quick ? 20_000 : 100_000)

/** Length of a precomputed access sequence; a power of two so that the index wraps with a mask. */
export const sequenceLength = (quick: boolean): number => (quick ? 1 << 16 : 1 << 20)

/** Capacity and key space of the miss scenario. */
export const missCapacity = (quick: boolean): number => (quick ? 2_000 : 10_000)
export const missKeyspace = (quick: boolean): number => (quick ? 20_000 : 100_000)

/** Concurrent callers of the fan-out scenarios, and how long their one load takes. */
export const fanoutCallers = 10_000
export const fanoutLoadMillis = 10

/** Entries of the memory scenario. */
export const memoryEntries = (quick: boolean): number => (quick ? 100_000 : 1_000_000)

/** Capacity of the OLTP replay and how many of its requests are timed (after a warm-up run). */
export const replayCapacity = 1_000
export const replayRequests = (quick: boolean): number => (quick ? 50_000 : 200_000)

/** Seeds of the access sequences, fixed so that every run reads the same keys. */
export const SEED = 0x5eed
