/**
 * Trace formats of the replay example: pure decoders that turn the bytes of a cache access
 * trace into keys, chunk by chunk, and report malformed input with its line number (text
 * formats) or byte offset (binary formats). Nothing here reads files; see `trace.ts`.
 */
import { Data, Either } from "effect"

/**
 * A key of a trace. Integers that fit in a double exactly are `number`s; larger ones (only
 * possible in the 64-bit formats or in very long decimal numbers) are `bigint`s, so no two
 * distinct block numbers ever collapse into one key. The mapping depends only on the value,
 * so every occurrence of one block number becomes the same key.
 */
export type TraceKey = number | bigint

/** The text formats: LIRS (one block number per line) and ARC (runs of blocks). */
export const textFormats = ["lirs", "arc"] as const

/** The raw binary formats: a stream of fixed-width integers, without header or separator. */
export const binaryFormats = [
  "int32be",
  "int32le",
  "uint32be",
  "uint32le",
  "int64be",
  "int64le",
  "uint64be",
  "uint64le"
] as const

/** Every format the replay reads. */
export const traceFormats = [...textFormats, ...binaryFormats] as const

/** A trace format name, as given to `--format`. */
export type TraceFormat = typeof traceFormats[number]

/** A binary trace format name. */
export type BinaryFormat = typeof binaryFormats[number]

/**
 * Malformed trace content: where (`line` for text formats, `byteOffset` for binary ones)
 * and what is wrong. The file name is added by the reader.
 */
export class MalformedTraceError extends Data.TaggedError("MalformedTraceError")<{
  readonly line?: number | undefined
  readonly byteOffset?: number | undefined
  readonly reason: string
}> {
  /** Where the problem is, e.g. `line 12` or `byte 4096`. */
  get location(): string {
    return this.line !== undefined ? `line ${this.line}` : `byte ${this.byteOffset ?? 0}`
  }

  override get message(): string {
    return `${this.location}: ${this.reason}`
  }
}

/**
 * A streaming decoder: `push` each chunk of (decompressed) bytes in order, then `finish`
 * once at the end. Each call returns the keys completed by that chunk.
 */
export interface TraceDecoder {
  readonly push: (bytes: Uint8Array) => Either.Either<Array<TraceKey>, MalformedTraceError>
  readonly finish: () => Either.Either<Array<TraceKey>, MalformedTraceError>
}

/** Whether `bytes` start with the gzip magic number (`1f 8b`). */
export const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b

/**
 * The format a file name implies, ignoring a trailing `.gz`: `.trace` is LIRS text and
 * `.lis` is ARC text. Binary traces have no telling extension (cache2k's `web07.trace` is
 * raw `int32be` despite its name), so they always need an explicit format.
 */
export const formatFromFileName = (fileName: string): TraceFormat | undefined => {
  const name = fileName.toLowerCase().replace(/\.gz$/, "")
  if (name.endsWith(".trace")) return "lirs"
  if (name.endsWith(".lis")) return "arc"
  return undefined
}

/** Whether `format` is one of the binary formats. */
export const isBinaryFormat = (format: TraceFormat): format is BinaryFormat =>
  (binaryFormats as ReadonlyArray<string>).includes(format)

/** A decoder for `format`. Each decoder keeps its own position; use one per trace. */
export const makeDecoder = (format: TraceFormat): TraceDecoder => {
  switch (format) {
    case "lirs":
      return makeLineDecoder(parseLirsLine)
    case "arc":
      return makeLineDecoder(parseArcLine)
    default:
      return makeBinaryDecoder(format)
  }
}

/** Decodes a whole trace held in memory; convenient for small inputs and tests. */
export const decodeAll = (
  format: TraceFormat,
  bytes: Uint8Array
): Either.Either<Array<TraceKey>, MalformedTraceError> => {
  const decoder = makeDecoder(format)
  return Either.flatMap(decoder.push(bytes), (keys) =>
    Either.map(decoder.finish(), (rest) => {
      for (const key of rest) keys.push(key)
      return keys
    }))
}

/**
 * Parses a decimal integer (optional sign, digits only) into a key, or `undefined` when
 * `text` is not one. Values beyond 2^53 stay exact as `bigint`.
 */
export const parseInteger = (text: string): TraceKey | undefined => {
  if (!integerPattern.test(text)) return undefined
  return text.length <= 15 ? Number(text) : normalize(BigInt(text))
}

const integerPattern = /^[+-]?\d+$/

/** The canonical key of an integer: a `number` when it is exactly representable. */
const normalize = (value: bigint): TraceKey => value >= minSafe && value <= maxSafe ? Number(value) : value

const minSafe = BigInt(Number.MIN_SAFE_INTEGER)
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER)

/** Longest line a text decoder accepts; a longer one is almost surely binary data. */
const maxLineLength = 4096

/** Longest ARC run expanded; a longer one is a corrupt line, not a real request. */
const maxRunLength = 1 << 24

/**
 * Parses one line (without its `\n`; a `\r` before it is trimmed with the other blanks),
 * pushing its keys to `out`, or returns what is wrong.
 */
type LineParser = (line: string, out: Array<TraceKey>) => string | undefined

/** LIRS text: one block number per line; `*` checkpoint markers and blank lines are skipped. */
const parseLirsLine: LineParser = (line, out) => {
  const text = line.trim()
  if (text === "" || text === "*") return undefined
  const key = parseInteger(text)
  if (key === undefined) return `expected a block number, found "${preview(text)}"`
  out.push(key)
  return undefined
}

/**
 * ARC text: `start_block num_blocks ignore request_id`, standing for `num_blocks`
 * consecutive block requests from `start_block`. Only the first two fields are read.
 */
const parseArcLine: LineParser = (line, out) => {
  const text = line.trim()
  if (text === "") return undefined
  const fields = text.split(/\s+/)
  const start = fields.length >= 2 ? parseInteger(fields[0]!) : undefined
  const count = fields.length >= 2 ? parseInteger(fields[1]!) : undefined
  if (start === undefined || count === undefined) {
    return `expected "start_block num_blocks ignore request_id", found "${preview(text)}"`
  }
  if (typeof count !== "number" || count < 0 || count > maxRunLength) {
    return `num_blocks must be an integer from 0 to ${maxRunLength}, found ${fields[1]}`
  }
  if (typeof start === "number" && Number.isSafeInteger(start + count)) {
    for (let i = 0; i < count; i++) out.push(start + i)
  } else {
    const first = BigInt(start)
    for (let i = 0; i < count; i++) out.push(normalize(first + BigInt(i)))
  }
  return undefined
}

const preview = (text: string): string => text.length > 40 ? `${text.slice(0, 40)}…` : text

const binaryHint = `if this is a binary trace, pass --format (${binaryFormats.join(", ")})`

/** Control characters, or bytes that are not UTF-8: a sign of binary data. */
const binaryPattern = /[\u0000-\u0008\u000e-\u001f\ufffd]/

/** The error for a line that `parse` refused; binary data gets a hint instead of a preview. */
const malformedLine = (line: number, text: string, reason: string): MalformedTraceError =>
  new MalformedTraceError({
    line,
    reason: binaryPattern.test(text) ? `found binary data; ${binaryHint}` : reason
  })

/**
 * Splits bytes into lines across chunk boundaries (`\n` or `\r\n`), numbering them from 1,
 * and hands each to `parse`. Only the unfinished last line is carried between chunks.
 */
const makeLineDecoder = (parse: LineParser): TraceDecoder => {
  const utf8 = new TextDecoder("utf-8")
  let carry = ""
  let lineNumber = 0

  const run = (input: string, final: boolean): Either.Either<Array<TraceKey>, MalformedTraceError> => {
    const out: Array<TraceKey> = []
    let start = 0
    for (let end = input.indexOf("\n"); end !== -1; end = input.indexOf("\n", start)) {
      lineNumber++
      const line = input.slice(start, end)
      const reason = parse(line, out)
      if (reason !== undefined) return Either.left(malformedLine(lineNumber, line, reason))
      start = end + 1
    }
    carry = input.slice(start)
    if (carry.length > maxLineLength) {
      const reason = `line longer than ${maxLineLength} characters; ${binaryHint}`
      return Either.left(new MalformedTraceError({ line: lineNumber + 1, reason }))
    }
    if (final && carry.length > 0) {
      lineNumber++
      const line = carry
      carry = ""
      const reason = parse(line, out)
      if (reason !== undefined) return Either.left(malformedLine(lineNumber, line, reason))
    }
    return Either.right(out)
  }

  return {
    push: (bytes) => run(carry + utf8.decode(bytes, { stream: true }), false),
    finish: () => run(carry + utf8.decode(), true)
  }
}

/** Decodes a stream of fixed-width integers, carrying a split integer to the next chunk. */
const makeBinaryDecoder = (format: BinaryFormat): TraceDecoder => {
  const width = format.includes("64") ? 8 : 4
  const read = readers[format]
  let carry: Uint8Array = new Uint8Array(0)
  let consumed = 0

  return {
    push: (chunk) => {
      const bytes = carry.length === 0 ? chunk : concat(carry, chunk)
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const whole = bytes.length - (bytes.length % width)
      const out: Array<TraceKey> = new Array(whole / width)
      for (let offset = 0, i = 0; offset < whole; offset += width, i++) out[i] = read(view, offset)
      carry = bytes.slice(whole)
      consumed += whole
      return Either.right(out)
    },
    finish: () =>
      carry.length === 0 ? Either.right([]) : Either.left(
        new MalformedTraceError({
          byteOffset: consumed,
          reason: `the trace ends with ${carry.length} stray byte(s); a ${format} trace is a ` +
            `whole number of ${width}-byte integers`
        })
      )
  }
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const both = new Uint8Array(a.length + b.length)
  both.set(a, 0)
  both.set(b, a.length)
  return both
}

const twoTo32 = 4294967296

/** A 64-bit integer from its halves: a double when exact, else the exact `bigint`. */
const read64 = (view: DataView, offset: number, littleEndian: boolean, signed: boolean): TraceKey => {
  const highAt = littleEndian ? offset + 4 : offset
  const lowAt = littleEndian ? offset : offset + 4
  const high = signed ? view.getInt32(highAt, littleEndian) : view.getUint32(highAt, littleEndian)
  const value = high * twoTo32 + view.getUint32(lowAt, littleEndian)
  if (Number.isSafeInteger(value)) return value
  return signed ? view.getBigInt64(offset, littleEndian) : view.getBigUint64(offset, littleEndian)
}

const readers: Record<BinaryFormat, (view: DataView, offset: number) => TraceKey> = {
  int32be: (view, offset) => view.getInt32(offset, false),
  int32le: (view, offset) => view.getInt32(offset, true),
  uint32be: (view, offset) => view.getUint32(offset, false),
  uint32le: (view, offset) => view.getUint32(offset, true),
  int64be: (view, offset) => read64(view, offset, false, true),
  int64le: (view, offset) => read64(view, offset, true, true),
  uint64be: (view, offset) => read64(view, offset, false, false),
  uint64le: (view, offset) => read64(view, offset, true, false)
}
