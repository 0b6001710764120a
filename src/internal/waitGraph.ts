/**
 * The wait-for graph between loads, and cycle detection.
 *
 * Implementation notes
 *
 * State. Each running load records the loads its fibers are waiting for right now
 * (`Load.waitsFor`). Which load a fiber belongs to is the FiberRef `currentLoad`: the load
 * sets it for the loader's fiber, and fibers the loader forks inherit it, so a child that
 * waits counts as its load waiting. The FiberRef is shared by every cache in the process,
 * so a cycle that runs through two caches is found too.
 *
 * Detection. When a fiber of load `me` is about to wait for load `target`, we search from
 * `target` along `waitsFor` edges for `me`. Finding it means the wait would close a cycle:
 * the waiter fails with `CircularLoadError` instead of waiting. Because the edges are those
 * of every running load, whoever started it, a cycle between loads started by unrelated
 * callers is found (the waiter whose edge would close the cycle is refused; the loads on the
 * cycle then fail in turn). The search costs nothing on a hit and nothing when the waiter is
 * not itself a load: it runs only when a load waits on another load.
 *
 * Limitation: a fiber the loader forks counts as the loader even when the loader never
 * waits for it (a daemon, a detached fork), so a wait of such a fiber can be refused as
 * closing a cycle that would not have deadlocked.
 *
 * Tolerated race: none arises, since an edge is added (after the search) and removed in
 * synchronous sections, and JavaScript runs one fiber step at a time.
 *
 * Who writes: cache.ts, around each wait of a load's fiber.
 */
import { FiberRef } from "effect"
import type { Load } from "./entry.js"

/**
 * The load the current fiber works for, if any.
 *
 * @internal
 */
export const currentLoad: FiberRef.FiberRef<Load | undefined> = FiberRef.unsafeMake<Load | undefined>(undefined)

/**
 * The keys of the cycle that `me` waiting for `target` would close, in wait order starting
 * with `me`'s key, or `undefined` when there is none.
 *
 * @internal
 */
export const findCycle = (me: Load, target: Load): Array<unknown> | undefined => {
  if (me === target) return [me.key]
  // Iterative depth-first search; `path` holds the loads from `target` to the current one.
  const seen = new Set<Load>([target])
  const path: Array<Load> = [target]
  const cursor: Array<number> = [0]
  while (path.length > 0) {
    const top = path[path.length - 1]!
    const edges = top.waitsFor
    const i = cursor[cursor.length - 1]!
    if (edges === undefined || i >= edges.length) {
      path.pop()
      cursor.pop()
      continue
    }
    cursor[cursor.length - 1] = i + 1
    const next = edges[i]!
    if (next === me) return [me.key, ...path.map((load) => load.key)]
    if (!seen.has(next)) {
      seen.add(next)
      path.push(next)
      cursor.push(0)
    }
  }
  return undefined
}

/** @internal */
export const addEdge = (from: Load, to: Load): void => {
  if (from.waitsFor === undefined) from.waitsFor = [to]
  else from.waitsFor.push(to)
}

/** @internal */
export const removeEdge = (from: Load, to: Load): void => {
  const edges = from.waitsFor
  if (edges === undefined) return
  const at = edges.indexOf(to)
  if (at >= 0) edges.splice(at, 1)
}
