/**
 * Readers for the cache access traces used in the hit-ratio and replay cases.
 *
 * The traces are not part of the repository. They are looked up in the folder given by
 * `--traces <dir>` or `CHRONOCACHE_TRACES`, else in `../shared/traces` next to the repository
 * root; cases that need a missing trace report themselves as skipped instead of failing.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { gunzipSync } from "node:zlib"

/** The environment variable the driver uses to hand the trace folder to each case process. */
export const TRACES_ENV = "CHRONOCACHE_TRACES"

/** The repository root (the parent of `bench/`). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The default trace folder, relative to the repository root. */
export const defaultTracesDir: string = resolve(repoRoot, "..", "shared", "traces")

/** The trace folder in effect: the environment variable if set, else the default. */
export const tracesDir = (): string => process.env[TRACES_ENV] ?? defaultTracesDir

/** How a trace file is laid out. */
export type TraceFormat = "lirs" | "arc"

/** A trace this bench knows how to read. */
export interface TraceInfo {
  readonly name: string
  readonly file: string
  readonly format: TraceFormat
}

/** The traces the bench uses, by name. */
export const TRACES: Readonly<Record<string, TraceInfo>> = {
  OLTP: { name: "OLTP", file: "OLTP.lis.gz", format: "arc" },
  gli: { name: "gli", file: "gli.trace.gz", format: "lirs" },
  ps: { name: "ps", file: "ps.trace.gz", format: "lirs" },
  loop: { name: "loop", file: "loop.trace.gz", format: "lirs" }
}

/** Whether the file of a trace is present in the trace folder. */
export const traceAvailable = (name: string): boolean => {
  const info = TRACES[name]
  return info !== undefined && existsSync(join(tracesDir(), info.file))
}

/**
 * The requests of a trace as key strings (`"k" + block`). Each distinct block gets one
 * string, so that a trace of a million requests holds only as many keys as it has blocks.
 */
export const readTrace = (name: string): Array<string> => {
  const info = TRACES[name]
  if (info === undefined) throw new Error(`unknown trace ${name}`)
  const text = gunzipSync(readFileSync(join(tracesDir(), info.file))).toString("latin1")
  const interned = new Map<number, string>()
  const intern = (block: number): string => {
    let k = interned.get(block)
    if (k === undefined) {
      k = "k" + block
      interned.set(block, k)
    }
    return k
  }
  const out: Array<string> = []
  for (const raw of text.split("\n")) {
    // LIRS files may end lines with CRLF, mark checkpoints with "*" and end with a blank line.
    const line = raw.trim()
    if (line === "" || line === "*") continue
    if (info.format === "lirs") {
      out.push(intern(Number(line)))
    } else {
      // ARC: "start count ignored id", standing for `count` consecutive block requests.
      const fields = line.split(" ")
      const start = Number(fields[0])
      const count = Number(fields[1])
      for (let b = 0; b < count; b++) out.push(intern(start + b))
    }
  }
  return out
}
