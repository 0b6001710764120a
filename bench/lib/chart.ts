/**
 * `chart.svg`: the ratios against their targets and the hit ratios, described in Vega-Lite
 * and rendered headless by Vega, so that the picture is drawn from the same results as the
 * tables and never by hand.
 */
import * as vega from "vega"
import { compile, type TopLevelSpec } from "vega-lite"
import type { Results } from "./report.js"
import { implName } from "./resultsMarkdown.js"

export const renderChart = async (r: Results): Promise<string> => {
  const ratioRows = r.ratios.flatMap((row) =>
    row.summary === undefined ? [] : [{
      label: `${row.name} (${row.better === "higher" ? "≥" : "≤"} ${row.target})`,
      median: row.summary.median,
      min: row.summary.min,
      max: row.summary.max,
      target: row.target,
      status: row.status === "met" ? "target met" : "target missed"
    }]
  )
  const hitRows = r.hitRatios.flatMap((h) =>
    Object.entries(h.values).map(([impl, value]) => ({
      workload: `${h.workload} @ ${h.capacity}`,
      cache: implName(impl).replace(/`/g, ""),
      value
    }))
  )
  const y = { field: "label", type: "nominal", sort: null, title: null, axis: { labelLimit: 320 } } as const
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "ChronoCache against its peers",
      subtitle: `${r.meta.mode === "quick" ? "quick run, " : ""}median of ${r.meta.rounds} round(s); `
        + `${r.meta.machine["cpu"]}, Node ${r.meta.machine["node"]}`
    },
    config: { font: "sans-serif", view: { stroke: null } },
    vconcat: [
      {
        title: "Ratios (median, min–max; black tick: target; ≥ higher is better, ≤ lower is better)",
        width: 480,
        data: { values: ratioRows },
        layer: [
          {
            mark: { type: "rule", strokeWidth: 2, color: "#999" },
            encoding: {
              y,
              x: { field: "min", type: "quantitative", scale: { type: "log" }, title: "ratio (log scale)" },
              x2: { field: "max" }
            }
          },
          {
            mark: { type: "tick", color: "black", thickness: 2, size: 16 },
            encoding: { y, x: { field: "target", type: "quantitative" } }
          },
          {
            mark: { type: "point", filled: true, size: 90 },
            encoding: {
              y,
              x: { field: "median", type: "quantitative" },
              color: {
                field: "status",
                type: "nominal",
                title: null,
                scale: { domain: ["target met", "target missed"], range: ["#2a9d8f", "#d62828"] }
              },
              tooltip: [{ field: "median", format: ".2f" }]
            }
          },
          {
            mark: { type: "text", align: "left", dx: 8, dy: -8, fontSize: 10 },
            encoding: { y, x: { field: "median", type: "quantitative" }, text: { field: "median", format: ".2f" } }
          }
        ]
      },
      {
        title: "Hit ratio (%) on traces and Zipf 0.9",
        width: 480,
        height: 36 * new Set(hitRows.map((h) => h.workload)).size,
        data: { values: hitRows },
        mark: "bar",
        encoding: {
          y: { field: "workload", type: "nominal", sort: null, title: null },
          yOffset: { field: "cache", type: "nominal", sort: ["ChronoCache", "lru-cache", "Effect Cache"] },
          x: { field: "value", type: "quantitative", title: "hit ratio (%)", scale: { domain: [0, 100] } },
          color: {
            field: "cache",
            type: "nominal",
            title: null,
            sort: ["ChronoCache", "lru-cache", "Effect Cache"],
            scale: { range: ["#264653", "#e9c46a", "#8ab17d"] }
          }
        }
      }
    ],
    resolve: { scale: { color: "independent" }, legend: { color: "independent" } }
  }
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
