/**
 * Controllable lookups for tests.
 *
 * A `TestLookup` counts its calls (per key and in total), signals when each call starts,
 * and, when gated, holds every call for a key at that key's gate (a `Deferred`) until the
 * test opens it. What a call then produces is up to the test: `resolve(key, call)` is run
 * after the gate, with `call` counting the calls for that key from 1, so a test can make
 * the first load fail and the second succeed.
 *
 * Keys are compared with Effect's `Equal`, as the cache compares them, so `Data` keys work.
 */
import { Deferred, Effect, Exit, FiberId, MutableHashMap, Option } from "effect"

/** A lookup whose calls a test can count, await and release. */
export interface TestLookup<K, V, E = never, R = never> {
  /** The lookup function to give to the cache. */
  readonly lookup: (key: K) => Effect.Effect<V, E, R>
  /** How many times the lookup was called for `key`. */
  readonly calls: (key: K) => number
  /** How many times the lookup was called, all keys together. */
  readonly totalCalls: () => number
  /** Waits until call number `call` (default 1) for `key` has started. */
  readonly started: (key: K, call?: number) => Effect.Effect<void>
  /** Opens the gate of `key`: calls waiting there go on, and later calls pass at once. */
  readonly open: (key: K) => Effect.Effect<void>
}

interface KeyState {
  calls: number
  readonly gate: Deferred.Deferred<void>
  /** `starts[n - 1]` is completed when call `n` starts. */
  readonly starts: Array<Deferred.Deferred<void>>
}

const make = <K, V, E, R>(
  resolve: (key: K, call: number) => Effect.Effect<V, E, R>,
  gated: boolean
): Effect.Effect<TestLookup<K, V, E, R>> =>
  Effect.sync(() => {
    const states = MutableHashMap.empty<K, KeyState>()
    let total = 0

    const stateOf = (key: K): KeyState => {
      const found = MutableHashMap.get(states, key)
      if (Option.isSome(found)) return found.value
      const gate = Deferred.unsafeMake<void>(FiberId.none)
      if (!gated) Deferred.unsafeDone(gate, Exit.void)
      const state: KeyState = { calls: 0, gate, starts: [] }
      MutableHashMap.set(states, key, state)
      return state
    }

    const startSignal = (state: KeyState, call: number): Deferred.Deferred<void> => {
      while (state.starts.length < call) state.starts.push(Deferred.unsafeMake<void>(FiberId.none))
      return state.starts[call - 1]!
    }

    const lookup = (key: K): Effect.Effect<V, E, R> =>
      Effect.suspend(() => {
        const state = stateOf(key)
        const call = ++state.calls
        total++
        Deferred.unsafeDone(startSignal(state, call), Exit.void)
        return Effect.zipRight(Deferred.await(state.gate), Effect.suspend(() => resolve(key, call)))
      })

    return {
      lookup,
      calls: (key) => stateOf(key).calls,
      totalCalls: () => total,
      started: (key, call = 1) => Effect.suspend(() => Deferred.await(startSignal(stateOf(key), call))),
      open: (key) => Effect.asVoid(Effect.suspend(() => Deferred.succeed(stateOf(key).gate, undefined)))
    }
  })

/**
 * A lookup that holds every call for a key at that key's gate until `open(key)`, then
 * answers with `resolve(key, call)`.
 */
export const gated = <K, V, E = never, R = never>(
  resolve: (key: K, call: number) => Effect.Effect<V, E, R>
): Effect.Effect<TestLookup<K, V, E, R>> => make(resolve, true)

/** A lookup that answers at once with `resolve(key, call)`, counting its calls. */
export const counting = <K, V, E = never, R = never>(
  resolve: (key: K, call: number) => Effect.Effect<V, E, R>
): Effect.Effect<TestLookup<K, V, E, R>> => make(resolve, false)
