/**
 * `RESULTS.md`: what a user reads to decide whether ChronoCache is fast enough, and how to
 * check the figures on their own machine.
 */
import type { Results } from "./report.js"
import { replayRequests } from "./sizes.js"

/** How an implementation is named in the results. */
export const implName = (impl: string, caseName?: string): string => {
  switch (impl) {
    case "chrono":
      return "ChronoCache"
    case "effect-cache":
      return "Effect `Cache`"
    case "map":
      return "`Map` (floor)"
    case "deferred":
      return "one `Deferred`, 10,000 waiters (reference)"
    case "floor":
      return caseName === "hit-effect" ? "`Effect.sync(map.get)` (floor)" : "`Effect.succeed` fan-out (floor)"
    default:
      return impl
  }
}

/** A value with a unit a reader takes in at a glance. */
export const formatValue = (value: number, unit: string): string => {
  switch (unit) {
    case "ns/op":
      return value < 1000 ? `${value.toFixed(0)} ns` : `${(value / 1000).toFixed(2)} µs`
    case "ms":
      return `${value.toFixed(1)} ms`
    case "bytes/entry":
      return `${value.toFixed(0)} B`
    case "hit %":
      return `${value.toFixed(2)}`
    default:
      return value.toPrecision(4)
  }
}

const ratio = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))

export const renderMarkdown = (r: Results): string => {
  const out: Array<string> = []
  const m = r.meta.machine
  const v = r.meta.versions
  const la = r.meta.loadAverage
  out.push("# ChronoCache benchmark results", "")
  if (r.meta.srcChanged) {
    out.push("> **The sources of ChronoCache changed during this run**: its figures mix two versions.", "")
  }
  if (r.meta.mode === "quick" || r.meta.partial) {
    out.push(
      `> **Not a full run** (${r.meta.mode === "quick" ? "quick sizes" : "a subset of the cases"}): `
        + "these figures only show that the bench runs.",
      ""
    )
  }
  out.push(
    "Every figure below is a ratio between ChronoCache and a peer measured in the same round, as the median",
    "over rounds of separate processes (each with its own warm-up). Absolute times on a shared machine",
    "swing 2–4× between runs; the ratios are what carry over to another machine.",
    "",
    `- Date: ${r.meta.date.slice(0, 10)}; ${r.meta.rounds} round(s); ${Math.round(r.meta.seconds)} s in all.`,
    `- Machine: ${m["cpu"]}, ${m["cores"]} cores, ${m["memoryGiB"]} GiB; ${m["os"]}.`,
    `- Node ${m["node"]} (V8 ${m["v8"]}).`,
    `- Load average (1 min) during the run: ${la.start.toFixed(1)} at the start, ${la.max.toFixed(1)} at most`
      + ` (${m["cores"]} cores)${la.max > Number(m["cores"]) ? ": other work shared the machine" : ""}.`,
    `- Versions: chronocache ${v["chronocache"]}, effect ${v["effect"]}, lru-cache ${v["lru-cache"]}, `
      + `mnemonist ${v["mnemonist"]}, quick-lru ${v["quick-lru"]}, mitata ${v["mitata"]}.`,
    ""
  )

  out.push("## Ratios", "")
  out.push("| ratio | scenario | median | min–max | target | |", "|---|---|---:|---:|---:|---|")
  for (const row of r.ratios) {
    const target = `${row.better === "higher" ? "≥" : "≤"} ${row.target}`
    const mark = row.status === "met" ? "met" : row.status === "missed" ? "**missed**" : "not run"
    const med = row.summary === undefined ? "–" : ratio(row.summary.median)
    const range = row.summary === undefined ? "–" : `${ratio(row.summary.min)}–${ratio(row.summary.max)}`
    const note = row.note !== undefined ? ` (${row.note})` : ""
    out.push(`| \`${row.name}\` | ${row.scenario} | ${med} | ${range} | ${target} | ${mark}${note} |`)
  }
  out.push(
    "",
    "A ratio marked ≥ is the peer's cost over ChronoCache's (higher is better); one marked ≤ is",
    "ChronoCache's cost over the peer's (lower is better).",
    ""
  )

  out.push("## Medians", "")
  out.push("| case | implementation | median | min–max | runs | notes |", "|---|---|---:|---:|---:|---|")
  for (const c of r.cases) {
    const rows = r.medians.filter((x) => x.case === c.name && x.unit !== "hit %")
    rows.forEach((x, i) => {
      const loads = x.loads === undefined ? [] : [`loads per run: ${[...new Set(x.loads)].join(", ")}`]
      const notes = [...loads, ...(x.notes ?? [])].join("; ")
      out.push(
        `| ${i === 0 ? `${c.name}: ${c.title}` : ""} | ${implName(x.impl, x.case)} | ${formatValue(x.median, x.unit)}`
          + ` | ${formatValue(x.min, x.unit)}–${formatValue(x.max, x.unit)} | ${x.n} | ${notes} |`
      )
    })
  }
  out.push("")

  out.push("## Hit ratios", "")
  if (r.hitRatios.length === 0) {
    out.push("Not run.", "")
  } else {
    out.push(
      "Hits in % of requests, each cache read through its loading `get` (for lru-cache: `get`, then `set`",
      "on a miss), loads counted at the loader. A correct LRU matches lru-cache exactly.",
      "",
      "| workload | capacity | requests | ChronoCache | lru-cache | Effect `Cache` | exact LRU (reference) | ChronoCache = lru-cache |",
      "|---|---:|---:|---:|---:|---:|---:|---|"
    )
    for (const h of r.hitRatios) {
      const cell = (impl: string) => (h.values[impl] === undefined ? "–" : h.values[impl].toFixed(2))
      const match = h.matchesLruCache === undefined ? "–" : h.matchesLruCache ? "yes" : "**no**"
      out.push(
        `| ${h.workload} | ${h.capacity} | ${h.requests} | ${cell("chrono")} | ${cell("lru-cache")} | `
          + `${cell("effect-cache")} | ${h.reference === undefined ? "" : h.reference.toFixed(2)} | ${match} |`
      )
    }
    out.push(
      "",
      "The reference column is the exact LRU hit ratio of the whole trace: OLTP and gli as published by",
      "BitFaster.Caching, ps and loop from an independent simulation. The traces are those of the ARC",
      "paper (Megiddo and Modha, FAST 2003: OLTP) and the LIRS paper (Jiang and Zhang, SIGMETRICS 2002:",
      "gli, ps, loop). Zipf is seeded and generated by the bench.",
      ""
    )
  }

  if (r.skipped.length > 0 || r.failures.length > 0) {
    out.push("## Not run", "")
    for (const s of r.skipped) {
      out.push(`- ${s.case}${s.impl !== undefined ? ` (${implName(s.impl)})` : ""}: ${s.reason}`)
    }
    for (const f of r.failures) out.push(`- ${f.case} (${implName(f.impl)}), round ${f.round + 1}: failed, ${f.error}`)
    out.push("")
  }

  out.push(
    "## How it is measured",
    "",
    "- Each case runs in its own `node --expose-gc` process per implementation and round; the order of the",
    "  processes rotates from round to round. Keys are `\"k\" + i` strings; access sequences are precomputed",
    "  from a seeded generator before timing starts.",
    "- Throughput cases (hits, misses) time blocks of 1,024 reads with `mitata` after a warm-up and keep",
    "  the median block; an Effect loop runs one `Effect.gen` program per block. The OLTP replay times one",
    `  pass over the first ${replayRequests(false).toLocaleString("en-US")} requests on a fresh cache after a`
      + " warm-up pass on another.",
    "- Fan-out cases time one fan-out on a cold key after three warm-up fan-outs on other keys. The floor",
    "  is the loader's 10 ms followed by the same 10,000-fiber fan-out over `Effect.succeed`; the",
    "  `Deferred` reference has the 10,000 fibers wait on one `Deferred` that the loader completes.",
    "- Memory is the growth of heap plus array buffers, after full collections, per entry; keys are",
    "  allocated before the baseline and values are small integers.",
    "",
    "## Re-run",
    "",
    "```sh",
    "npm run bench -- --json     # full run: bench/RESULTS.md, bench/chart.svg, bench/results.json",
    "npm run bench -- --quick    # smoke run, written to bench/out/",
    "npm run bench -- --only hit-sync,miss --rounds 3",
    "```",
    "",
    "The hit-ratio and replay cases read the traces from `../shared/traces` next to the repository root;",
    "point elsewhere with `--traces <dir>` or `CHRONOCACHE_TRACES=<dir>`. Without them those cases are",
    "skipped and listed under \"Not run\".",
    ""
  )
  return out.join("\n")
}
