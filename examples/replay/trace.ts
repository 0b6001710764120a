/**
 * Reading a trace file as a stream of keys: the file is read in chunks with the platform
 * `FileSystem`, gunzipped on the fly when it starts with the gzip magic number, and decoded
 * chunk by chunk, so a large trace is never held in memory as a whole.
 */
import { FileSystem } from "@effect/platform"
import { NodeStream } from "@effect/platform-node"
import type { PlatformError } from "@effect/platform/Error"
import { Chunk, Data, Effect, Stream } from "effect"
import { pipeline } from "node:stream"
import { createGunzip } from "node:zlib"
import type { MalformedTraceError, TraceFormat, TraceKey } from "./formats.js"
import { formatFromFileName, isGzip, makeDecoder, traceFormats } from "./formats.js"

/** A problem that stops the replay, with a one-line message naming the file (and line). */
export class ReplayError extends Data.TaggedError("ReplayError")<{ readonly message: string }> {}

/** An opened trace: what it is, and its keys as a stream of batches. */
export interface Trace {
  /** The path as given. */
  readonly path: string
  readonly format: TraceFormat
  readonly gzip: boolean
  /** Size of the file on disk, in bytes (compressed size for a gzip file). */
  readonly size: number
  /** Bytes of the file read so far; for a progress display. */
  readonly bytesRead: () => number
  /** The keys in order, in batches (one per chunk read); can be run once. */
  readonly keys: Stream.Stream<ReadonlyArray<TraceKey>, ReplayError>
}

/**
 * Opens the trace at `path`. Its format is `format` when given, else implied by the file name
 * (`.trace` is LIRS, `.lis` is ARC, with or without `.gz`); gzip is detected by content.
 */
export const openTrace = (
  path: string,
  format: TraceFormat | undefined
): Effect.Effect<Trace, ReplayError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(path).pipe(Effect.mapError((error) => cannotRead(path, error)))
    if (info.type !== "File") return yield* new ReplayError({ message: `${path} is not a file` })
    const resolved = format ?? formatFromFileName(path)
    if (resolved === undefined) {
      return yield* new ReplayError({
        message: `cannot tell the format of ${path} from its name; pass --format ` +
          `(one of ${traceFormats.join(", ")})`
      })
    }
    const head = yield* fs.stream(path, { bytesToRead: 2 }).pipe(
      Stream.runCollect,
      Effect.map((chunks) => Uint8Array.from(Chunk.toReadonlyArray(chunks).flatMap((c) => [...c]))),
      Effect.mapError((error) => cannotRead(path, error))
    )
    const gzip = isGzip(head)
    let bytesRead = 0
    const raw = fs.stream(path).pipe(
      Stream.mapError((error) => cannotRead(path, error)),
      Stream.tap((chunk) => Effect.sync(() => (bytesRead += chunk.length)))
    )
    const bytes = gzip ? gunzip(path, raw) : raw
    return {
      path,
      format: resolved,
      gzip,
      size: Number(info.size),
      bytesRead: () => bytesRead,
      keys: decodeStream(path, resolved, bytes)
    }
  })

/**
 * Decompresses a gzip byte stream with `node:zlib`. The compressed stream is handed to Node as
 * a `Readable` and joined to the gunzip transform with `pipeline`, so that the file is read
 * only as fast as the replay consumes it (backpressure) and an error on either side ends both.
 */
const gunzip = (
  path: string,
  compressed: Stream.Stream<Uint8Array, ReplayError>
): Stream.Stream<Uint8Array, ReplayError> =>
  NodeStream.toReadable(compressed).pipe(
    Effect.map((readable) =>
      NodeStream.fromReadable<ReplayError, Uint8Array>(
        () => pipeline(readable, createGunzip(), () => {}),
        (error) =>
          error instanceof ReplayError
            ? error
            : new ReplayError({ message: `${path}: not a valid gzip file (${describe(error)})` })
      )
    ),
    Stream.unwrap
  )

/** Decodes a byte stream with a fresh decoder, naming `path` in any error. */
const decodeStream = <R>(
  path: string,
  format: TraceFormat,
  bytes: Stream.Stream<Uint8Array, ReplayError, R>
): Stream.Stream<ReadonlyArray<TraceKey>, ReplayError, R> =>
  Stream.suspend(() => {
    const decoder = makeDecoder(format)
    const malformed = (error: MalformedTraceError) =>
      new ReplayError({ message: `${path}, ${error.location}: ${error.reason}` })
    return bytes.pipe(
      Stream.mapEffect((chunk) => Effect.mapError(decoder.push(chunk), malformed)),
      Stream.concat(Stream.fromEffect(Effect.suspend(() => Effect.mapError(decoder.finish(), malformed)))),
      Stream.filter((keys) => keys.length > 0)
    )
  })

const cannotRead = (path: string, error: PlatformError): ReplayError => {
  const why = error._tag === "SystemError" && error.reason === "NotFound"
    ? "no such file"
    : error._tag === "SystemError" && error.reason === "PermissionDenied"
    ? "permission denied"
    : error.message
  return new ReplayError({ message: `cannot read ${path}: ${why}` })
}

const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)
