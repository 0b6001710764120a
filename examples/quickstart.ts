/**
 * The README's example, grown a little: a cache provided as a Layer, a lookup that takes
 * 20 ms, ten concurrent gets sharing one load, and a read from plain code through
 * `getPromise`. Run: `npx tsx examples/quickstart.ts`.
 */
import { Context, Effect, ManagedRuntime } from "effect"
import { ChronoCache } from "../src/index.js"

class Users extends Context.Tag("Users")<Users, ChronoCache.ChronoCache<number, string>>() {}

let loads = 0
const UsersLive = ChronoCache.layer(Users, {
  // Stands for a database query or an HTTP call.
  lookup: (id: number) => Effect.sync(() => `user ${id} (load #${++loads})`).pipe(Effect.delay("20 millis")),
  capacity: 10_000,
  timeToLive: "5 minutes",
  loadTimeout: "2 seconds"
})

const program = Effect.gen(function*() {
  const users = yield* Users
  // Ten concurrent gets of one key share one load.
  const names = yield* Effect.all(Array.from({ length: 10 }, () => users.get(42)), { concurrency: "unbounded" })
  const stats = yield* users.cacheStats
  return { first: names[0], loads, hits: stats.hits, misses: stats.misses, joins: stats.joins }
})

const runtime = ManagedRuntime.make(UsersLive)

const main = async () => {
  console.log(await runtime.runPromise(program))
  // Plain code reaches the same cache through a Promise, on the cache's own runtime.
  const users = await runtime.runPromise(Users)
  console.log(await users.getPromise(42), users.getOptionSync(7))
  await runtime.dispose()
}

main()
