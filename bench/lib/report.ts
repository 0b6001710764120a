/**
 * Turns the measurements of all rounds into the results: medians with min–max per case and
 * implementation, the ratios of `ratios.ts` paired by round, and the hit-ratio table. This is
 * the shape of `results.json`; `RESULTS.md` and the chart are drawn from it.
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { arch, cpus, release, totalmem, type } from "node:os"
import { join } from "node:path"
import { REFERENCE_LRU, WORKLOADS } from "../cases/hitRatio.js"
import type { CaseDef, ResultLine } from "./protocol.js"
import { meets, ratioOf, RATIOS } from "./ratios.js"
import { summarize, type Summary } from "./stats.js"
import { repoRoot } from "./traces.js"

/** One measurement and the round it belongs to. */
export interface Run extends ResultLine {
  readonly round: number
}

/** A case, or one implementation of it, that did not run, and why. */
export interface Skip {
  readonly case: string
  readonly impl?: string
  readonly reason: string
}

/** A case process that failed. */
export interface Failure {
  readonly case: string
  readonly impl: string
  readonly round: number
  readonly error: string
}

/** The medians of one case, implementation and metric over the rounds. */
export interface MedianRow extends Summary {
  readonly case: string
  readonly impl: string
  readonly metric: string
  readonly unit: string
  readonly values: ReadonlyArray<number>
  readonly loads?: ReadonlyArray<number>
  readonly notes?: ReadonlyArray<string>
}

/** One named ratio: its per-round values, their summary and whether the target is met. */
export interface RatioRow {
  readonly name: string
  readonly scenario: string
  readonly better: "higher" | "lower"
  readonly target: number
  readonly perRound: ReadonlyArray<number>
  readonly summary: Summary | undefined
  readonly status: "met" | "missed" | "not run"
  readonly note?: string
}

/** Hit ratios (%) of one workload at one capacity. */
export interface HitRatioRow {
  readonly workload: string
  readonly capacity: number
  readonly requests: number
  readonly values: Readonly<Record<string, number>>
  /** The exact LRU hit ratio of the whole trace, when one is known. */
  readonly reference?: number
  /** Whether ChronoCache made exactly as many loads as lru-cache. */
  readonly matchesLruCache?: boolean
}

/** The one-minute load average of the machine over the run, sampled between processes. */
export interface LoadAverage {
  readonly start: number
  readonly max: number
  readonly end: number
}

export interface Results {
  readonly meta: {
    readonly date: string
    readonly mode: "full" | "quick"
    readonly partial: boolean
    readonly rounds: number
    readonly seconds: number
    readonly tracesSkipped: boolean
    readonly loadAverage: LoadAverage
    readonly machine: Readonly<Record<string, string | number>>
    readonly versions: Readonly<Record<string, string>>
    readonly srcChanged: boolean
  }
  readonly cases: ReadonlyArray<{ readonly name: string; readonly title: string; readonly unit: string }>
  readonly ratios: ReadonlyArray<RatioRow>
  readonly medians: ReadonlyArray<MedianRow>
  readonly hitRatios: ReadonlyArray<HitRatioRow>
  readonly skipped: ReadonlyArray<Skip>
  readonly failures: ReadonlyArray<Failure>
}

const packageVersion = (name: string): string => {
  try {
    const path = name === "." ? "package.json" : join("node_modules", name, "package.json")
    return (JSON.parse(readFileSync(join(repoRoot, path), "utf8")) as { version: string }).version
  } catch {
    return "unknown"
  }
}

/**
 * A digest of every file under `src/`, taken at the start and at the end of a run: the
 * commit alone would miss edits to a working tree.
 */
export const srcFingerprint = (): string => {
  const dir = join(repoRoot, "src")
  const hash = createHash("sha256")
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).sort()
  for (const f of files) {
    const path = join(dir, f)
    if (!statSync(path).isFile()) continue
    hash.update(f).update("\0").update(readFileSync(path)).update("\0")
  }
  return hash.digest("hex").slice(0, 12)
}

/** The commit of the repository, marked when `src/` differs from it. */
const gitRevision = (): string => {
  try {
    const rev = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim()
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: repoRoot, encoding: "utf8" })
    return dirty.trim() === "" ? rev : `${rev} (src modified)`
  } catch {
    return "unknown"
  }
}

const machine = (): Record<string, string | number> => ({
  cpu: cpus()[0]?.model.trim() ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${type()} ${release()} ${arch()}`,
  node: process.version,
  v8: process.versions.v8
})

const versions = (): Record<string, string> => ({
  chronocache: `${packageVersion(".")} @ ${gitRevision()}`,
  effect: packageVersion("effect"),
  "lru-cache": packageVersion("lru-cache"),
  mnemonist: packageVersion("mnemonist"),
  "quick-lru": packageVersion("quick-lru"),
  mitata: packageVersion("mitata"),
  tsx: packageVersion("tsx")
})

export const buildResults = (input: {
  readonly cases: ReadonlyArray<CaseDef>
  readonly runs: ReadonlyArray<Run>
  readonly skips: ReadonlyArray<Skip>
  readonly failures: ReadonlyArray<Failure>
  readonly quick: boolean
  readonly rounds: number
  readonly partial: boolean
  readonly tracesSkipped: boolean
  readonly loadAverage: LoadAverage
  readonly srcAtStart: string
  readonly seconds: number
}): Results => {
  const { cases, runs } = input
  const unitOf = (name: string) => cases.find((c) => c.name === name)?.unit ?? ""

  // Medians per case, implementation and metric, in the order the cases list them.
  const medians: Array<MedianRow> = []
  for (const def of cases) {
    const metrics = [...new Set(runs.filter((r) => r.case === def.name).map((r) => r.metric))]
    for (const metric of metrics) {
      for (const impl of def.impls) {
        const mine = runs.filter((r) => r.case === def.name && r.impl === impl && r.metric === metric)
        if (mine.length === 0) continue
        const loads = mine.flatMap((r) => (r.loads === undefined ? [] : [r.loads]))
        const notes = [...new Set(mine.flatMap((r) => (r.note === undefined ? [] : [r.note])))]
        medians.push({
          case: def.name,
          impl,
          metric,
          unit: def.unit,
          ...summarize(mine.map((r) => r.value)),
          values: mine.map((r) => r.value),
          ...(loads.length > 0 ? { loads } : {}),
          ...(notes.length > 0 ? { notes } : {})
        })
      }
    }
  }

  // Ratios paired by round: ChronoCache and its peer ran in the same round.
  const ratios: Array<RatioRow> = RATIOS.map((def) => {
    const base = { name: def.name, scenario: def.scenario, better: def.better, target: def.target }
    const perRound: Array<number> = []
    let badLoads: number | undefined
    for (let round = 0; round < input.rounds; round++) {
      const pick = (impl: string) => runs.find((r) => r.case === def.case && r.impl === impl && r.round === round)
      const ours = pick(def.ours)
      const peer = pick(def.peer)
      if (ours === undefined || peer === undefined) continue
      perRound.push(ratioOf(def, ours.value, peer.value))
      if (def.loads !== undefined && ours.loads !== def.loads) badLoads = ours.loads
    }
    if (perRound.length === 0) {
      const skip = input.skips.find((s) => s.case === def.case)
      const failed = input.failures.some((f) => f.case === def.case)
      const why = skip?.reason ?? (failed ? "its runs failed" : "not selected")
      return { ...base, perRound, summary: undefined, status: "not run", note: why }
    }
    const summary = summarize(perRound)
    const loadsNote = badLoads !== undefined ? `the loader ran ${badLoads} times in a round, not ${def.loads}` : ""
    const ok = meets(def, summary.median) && loadsNote === ""
    return { ...base, perRound, summary, status: ok ? "met" : "missed", ...(loadsNote ? { note: loadsNote } : {}) }
  })

  // Hit ratios: one row per workload and capacity, one column per implementation.
  const hitRatios: Array<HitRatioRow> = []
  for (const w of WORKLOADS) {
    for (const capacity of w.capacities) {
      const metric = `${w.name}@${capacity}`
      const mine = runs.filter((r) => r.metric === metric)
      if (mine.length === 0) continue
      const values: Record<string, number> = {}
      for (const r of mine) values[r.impl] = r.value
      const loadsOf = (impl: string) => mine.find((r) => r.impl === impl)?.loads
      const chrono = loadsOf("chrono")
      const lru = loadsOf("lru-cache")
      const reference = input.quick ? undefined : REFERENCE_LRU[metric]
      hitRatios.push({
        workload: w.name,
        capacity,
        requests: mine[0]!.requests ?? 0,
        values,
        ...(reference !== undefined ? { reference } : {}),
        ...(chrono !== undefined && lru !== undefined ? { matchesLruCache: chrono === lru } : {})
      })
    }
  }

  return {
    meta: {
      date: new Date().toISOString(),
      mode: input.quick ? "quick" : "full",
      partial: input.partial,
      rounds: input.rounds,
      seconds: input.seconds,
      tracesSkipped: input.tracesSkipped,
      loadAverage: input.loadAverage,
      machine: machine(),
      versions: versions(),
      // A run that spans a change of the engine mixes two versions in its medians.
      srcChanged: srcFingerprint() !== input.srcAtStart
    },
    cases: cases.map((c) => ({ name: c.name, title: c.title, unit: unitOf(c.name) })),
    ratios,
    medians,
    hitRatios,
    skipped: input.skips,
    failures: input.failures
  }
}
