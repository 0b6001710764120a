/**
 * ChronoCache as the cases use it: built once in a `Scope` that the case closes at the end,
 * so that plain loops can call its synchronous members and run its Effects directly.
 *
 * Cases import this module lazily, only for ChronoCache's own runs, so that the peers can be
 * measured even when the engine does not load.
 */
import { Effect, Exit, Scope } from "effect"
import { ChronoCache } from "../../src/index.js"
import { lookup as defaultLookup } from "./peers.js"

/** A ChronoCache and the way to close it. */
export interface ChronoHandle<V> {
  readonly cache: ChronoCache.ChronoCache<string, V>
  readonly close: () => Promise<void>
}

/** Builds a ChronoCache of string keys in a fresh `Scope`. */
export const makeChrono = async <V = number>(
  capacity: number,
  lookup: (key: string) => Effect.Effect<V> = defaultLookup as unknown as (key: string) => Effect.Effect<V>
): Promise<ChronoHandle<V>> => {
  const scope = Effect.runSync(Scope.make())
  const cache = await Effect.runPromise(Scope.extend(ChronoCache.make({ lookup, capacity }), scope))
  return { cache, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
