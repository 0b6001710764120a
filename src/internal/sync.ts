/**
 * The fiber-identity guard of the synchronous API.
 *
 * Implementation notes
 *
 * State. `cacheOwners` is a FiberRef holding the caches that own the current fiber. Every
 * fiber a cache starts (loads, the sweeper, the weak-cleanup consumer) runs on the cache's
 * runtime with its identity added to this FiberRef, and fibers they fork inherit it. So a
 * synchronous read can tell, from the fiber running at the moment of the call, whether it
 * is being made from inside the cache itself.
 *
 * Why refuse there: a synchronous read cannot wait, so inside the cache it could only fail
 * or (were it to block) deadlock the very load it waits for. Refusing at once with
 * `ReentrantAccessError` tells the caller to use the Effect API, which can wait safely and
 * detects cycles. `getOptionSync` never waits, so it is allowed anywhere and skips the guard.
 *
 * Who writes: nobody after a cache is built; the FiberRef is set for the cache's runtime.
 */
import { Fiber, FiberRef } from "effect"

/** @internal */
export const cacheOwners: FiberRef.FiberRef<ReadonlyArray<object>> = FiberRef.unsafeMake<ReadonlyArray<object>>([])

/**
 * Whether the fiber running right now (if any) belongs to the cache `owner`.
 *
 * @internal
 */
export const runningInside = (owner: object): boolean => {
  const fiber = Fiber.getCurrentFiber()
  if (fiber._tag === "None") return false
  return fiber.value.getFiberRef(cacheOwners).includes(owner)
}
