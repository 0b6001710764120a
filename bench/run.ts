/**
 * The bench driver: runs every case of `cases/` for every implementation in its own child
 * process, for several rounds in rotating order, then writes the medians, the ratios against
 * the peers, `RESULTS.md` and `chart.svg`.
 *
 * Usage: npm run bench -- [--quick] [--json] [--rounds N] [--only case,case] [--traces DIR]
 *
 * Why child processes: fast JavaScript caches swing 2–4× between runs with JIT and heap
 * state, so one process per measurement, the median over rounds, and ratios against a peer
 * of the same round are what make the figures repeatable.
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { join, resolve } from "node:path"
import { CASES } from "./cases/index.js"
import { renderChart } from "./lib/chart.js"
import type { CaseDef, ResultLine, SkipLine } from "./lib/protocol.js"
import { buildResults, type Failure, type Run, type Skip, srcFingerprint } from "./lib/report.js"
import { renderMarkdown } from "./lib/resultsMarkdown.js"
import { repoRoot, traceAvailable, TRACES_ENV, tracesDir } from "./lib/traces.js"

interface Args {
  readonly quick: boolean
  readonly json: boolean
  readonly rounds: number
  readonly only: ReadonlyArray<string> | undefined
}

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag)
    if (i < 0) return undefined
    const v = argv[i + 1]
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`)
    return v
  }
  const known = new Set(["--quick", "--json", "--rounds", "--only", "--traces", "--help"])
  for (const a of argv) {
    if (a.startsWith("--") && !known.has(a)) throw new Error(`unknown flag ${a}`)
  }
  if (argv.includes("--help")) {
    console.log("npm run bench -- [--quick] [--json] [--rounds N] [--only case,case] [--traces DIR]")
    console.log(`cases: ${CASES.map((c) => c.name).join(", ")}`)
    process.exit(0)
  }
  const quick = argv.includes("--quick")
  const traces = value("--traces")
  // The case processes find the traces through the environment, whichever way they were given.
  if (traces !== undefined) process.env[TRACES_ENV] = resolve(traces)
  const rounds = Number(value("--rounds") ?? (quick ? 2 : 5))
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer")
  const only = value("--only")?.split(",").map((s) => s.trim()).filter((s) => s !== "")
  for (const name of only ?? []) {
    if (!CASES.some((c) => c.name === name)) throw new Error(`unknown case ${name}`)
  }
  return { quick, json: argv.includes("--json"), rounds, only }
}

interface Job {
  readonly def: CaseDef
  readonly impl: string
  readonly round: number
}

/** The output of one case process: its measurements, skips, or the reason it failed. */
interface JobOutput {
  readonly lines: ReadonlyArray<ResultLine>
  readonly skips: ReadonlyArray<SkipLine>
  readonly error: string | undefined
}

const JOB_TIMEOUT_MS = 10 * 60 * 1000

const runJob = (job: Job, quick: boolean): Promise<JobOutput> =>
  new Promise((resolveJob) => {
    const args = ["--expose-gc", "--import", "tsx", join("bench", "case.ts"), job.def.name, job.impl]
    if (quick) args.push("--quick")
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), JOB_TIMEOUT_MS)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      const lines: Array<ResultLine> = []
      const skips: Array<SkipLine> = []
      for (const raw of stdout.split("\n")) {
        if (!raw.startsWith("{")) continue
        try {
          const parsed = JSON.parse(raw) as Partial<ResultLine & SkipLine>
          if (parsed.case !== job.def.name) continue
          if (typeof parsed.skipped === "string") skips.push(parsed as SkipLine)
          else if (typeof parsed.value === "number") lines.push(parsed as ResultLine)
        } catch {
          // Not one of ours: a case may print anything else.
        }
      }
      const failed = code !== 0 || (lines.length === 0 && skips.length === 0)
      const tail = stderr.trim().split("\n").slice(-6).join("\n")
      const error = failed ? `exit ${signal ?? code}${tail === "" ? "" : `: ${tail}`}` : undefined
      resolveJob({ lines, skips, error })
    })
  })

/** The jobs of one round, rotated so that each case and implementation moves through the order. */
const rotate = <A>(items: ReadonlyArray<A>, by: number): Array<A> => {
  const k = items.length === 0 ? 0 : ((by % items.length) + items.length) % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

const fmt = (value: number, unit: string): string =>
  unit === "hit %" ? `${value.toFixed(2)}%` : `${value.toPrecision(4)} ${unit}`

/**
 * Formats a written Markdown file with the repository's dprint, so that the committed results
 * pass `dprint check` (it aligns table columns, which the writer does not).
 */
const formatMarkdown = (path: string): void => {
  const dprint = join(repoRoot, "node_modules", ".bin", "dprint")
  if (!existsSync(dprint)) return
  try {
    execFileSync(dprint, ["fmt", path], { cwd: repoRoot, stdio: "ignore" })
  } catch {
    console.log(`Could not format ${path} with dprint; run \`npx dprint fmt\` before committing it.`)
  }
}

const main = async () => {
  const args = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const srcAtStart = srcFingerprint()
  const selected = CASES.filter((c) => args.only === undefined || args.only.includes(c.name))
  const skippedCases: Array<Skip> = []
  const runnable = selected.filter((c) => {
    const missing = (c.traces ?? []).filter((t) => !traceAvailable(t))
    if (missing.length > 0) {
      skippedCases.push({
        case: c.name,
        reason: `trace ${missing.join(", ")} not found; pass --traces <dir> or set ${TRACES_ENV}`
      })
    }
    return missing.length === 0
  })
  if (skippedCases.length > 0) {
    console.log(`Skipping ${skippedCases.length} case(s): the traces folder (${tracesDir()}) lacks their files.`)
  }

  const repeated = runnable.filter((c) => c.kind !== "once").flatMap((def) => def.impls.map((impl) => ({ def, impl })))
  const once = runnable.filter((c) => c.kind === "once").flatMap((def) => def.impls.map((impl) => ({ def, impl })))
  const step = Math.max(1, Math.floor(repeated.length / args.rounds))
  const jobs: Array<Job> = []
  for (let round = 0; round < args.rounds; round++) {
    for (const j of rotate(repeated, round * step)) {
      if (round < (j.def.maxRounds ?? args.rounds)) jobs.push({ ...j, round })
    }
  }
  for (const j of once) jobs.push({ ...j, round: 0 })

  console.log(
    `${args.quick ? "Quick" : "Full"} run: ${jobs.length} processes in ${args.rounds} round(s), `
      + `then ${once.length} hit-ratio runs.`
  )
  const runs: Array<Run> = []
  const skips: Array<Skip> = [...skippedCases]
  const failures: Array<Failure> = []
  // Other work on the machine distorts single processes; the load average says how much there was.
  const loads: Array<number> = [loadavg()[0]!]
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!
    const t0 = performance.now()
    const out = await runJob(job, args.quick)
    loads.push(loadavg()[0]!)
    const label = `[${String(i + 1).padStart(String(jobs.length).length)}/${jobs.length}] round ${job.round + 1}`
      + ` ${job.def.name} ${job.impl} (${((performance.now() - t0) / 1000).toFixed(1)} s)`
    if (out.error !== undefined) {
      failures.push({ case: job.def.name, impl: job.impl, round: job.round, error: out.error })
      console.log(`${label}: FAILED ${out.error}`)
      continue
    }
    for (const s of out.skips) {
      if (!skips.some((k) => k.case === s.case && k.impl === s.impl)) {
        skips.push({ case: s.case, impl: s.impl, reason: s.skipped })
      }
      console.log(`${label}: skipped (${s.skipped})`)
    }
    for (const line of out.lines) runs.push({ ...line, round: job.round })
    const shown = out.lines.map((l) =>
      `${l.metric === "time" || l.metric === "bytes" ? "" : `${l.metric} `}${fmt(l.value, job.def.unit)}`
      + (l.loads !== undefined && job.def.kind !== "once" ? ` (${l.loads} load${l.loads === 1 ? "" : "s"})` : "")
      + (l.note !== undefined ? ` [${l.note}]` : "")
    )
    if (shown.length > 0) console.log(`${label}: ${shown.join(", ")}`)
  }

  const results = buildResults({
    cases: selected,
    runs,
    skips,
    failures,
    quick: args.quick,
    rounds: args.rounds,
    partial: args.only !== undefined,
    tracesSkipped: skippedCases.length > 0,
    srcAtStart,
    loadAverage: { start: loads[0]!, max: Math.max(...loads), end: loads[loads.length - 1]! },
    seconds: (Date.now() - started) / 1000
  })

  // Only a full run of every case speaks for the project; any other run writes beside it.
  const official = !args.quick && args.only === undefined
  const outDir = official ? join(repoRoot, "bench") : join(repoRoot, "bench", "out")
  if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true })
  const markdown = renderMarkdown(results)
  writeFileSync(join(outDir, "RESULTS.md"), markdown)
  // Only committed results need the formatter; bench/out is ignored by git and by dprint.
  if (official) formatMarkdown(join(outDir, "RESULTS.md"))
  writeFileSync(join(outDir, "chart.svg"), await renderChart(results))
  if (args.json) writeFileSync(join(outDir, "results.json"), JSON.stringify(results, null, 2) + "\n")

  console.log("")
  console.log(markdown.slice(markdown.indexOf("## Ratios"), markdown.indexOf("## Medians")).trim())
  console.log("")
  console.log(
    `Wrote ${official ? "" : "(not a full run) "}${join(official ? "bench" : "bench/out", "RESULTS.md")}, chart.svg`
      + `${args.json ? ", results.json" : ""} in ${Math.round(results.meta.seconds)} s.`
  )
  if (failures.length > 0) process.exitCode = 1
}

await main()
