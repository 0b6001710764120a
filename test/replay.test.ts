import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Stream } from "effect"
import { gzipSync } from "node:zlib"
import type { BinaryFormat, TraceFormat, TraceKey } from "../examples/replay/formats.js"
import {
  binaryFormats,
  decodeAll,
  formatFromFileName,
  isGzip,
  makeDecoder,
  MalformedTraceError
} from "../examples/replay/formats.js"
import { formatJson, formatTable, makeReport } from "../examples/replay/report.js"
import { replayKeys } from "../examples/replay/run.js"
import { openTrace } from "../examples/replay/trace.js"
import { makeRandom, makeZipf, validateWorkload, zipfStream } from "../examples/replay/zipf.js"

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

const decoded = (format: TraceFormat, input: Uint8Array): Array<TraceKey> => Either.getOrThrow(decodeAll(format, input))

const failure = (format: TraceFormat, input: Uint8Array): MalformedTraceError => {
  const result = decodeAll(format, input)
  if (Either.isRight(result)) throw new Error(`expected a failure, got ${result.right.join(",")}`)
  return result.left
}

/** Decodes `input` pushed one byte at a time, to cross every possible chunk boundary. */
const decodedBytewise = (format: TraceFormat, input: Uint8Array): Array<TraceKey> => {
  const decoder = makeDecoder(format)
  const keys: Array<TraceKey> = []
  for (let i = 0; i < input.length; i++) keys.push(...Either.getOrThrow(decoder.push(input.subarray(i, i + 1))))
  keys.push(...Either.getOrThrow(decoder.finish()))
  return keys
}

/** Encodes `values` as raw integers of `format`. */
const encode = (format: BinaryFormat, values: ReadonlyArray<bigint>): Uint8Array => {
  const width = format.includes("64") ? 8 : 4
  const littleEndian = format.endsWith("le")
  const view = new DataView(new ArrayBuffer(values.length * width))
  values.forEach((value, i) => {
    const offset = i * width
    switch (format) {
      case "int32be":
      case "int32le":
        return view.setInt32(offset, Number(value), littleEndian)
      case "uint32be":
      case "uint32le":
        return view.setUint32(offset, Number(value), littleEndian)
      case "int64be":
      case "int64le":
        return view.setBigInt64(offset, value, littleEndian)
      case "uint64be":
      case "uint64le":
        return view.setBigUint64(offset, value, littleEndian)
    }
  })
  return new Uint8Array(view.buffer)
}

/** A value of each binary format, chosen at its edges, and the key it must decode to. */
const samples: Record<BinaryFormat, ReadonlyArray<readonly [bigint, TraceKey]>> = {
  int32be: [[0n, 0], [7n, 7], [-1n, -1], [2147483647n, 2147483647], [-2147483648n, -2147483648]],
  int32le: [[0n, 0], [7n, 7], [-1n, -1], [2147483647n, 2147483647], [-2147483648n, -2147483648]],
  uint32be: [[0n, 0], [7n, 7], [4294967295n, 4294967295]],
  uint32le: [[0n, 0], [7n, 7], [4294967295n, 4294967295]],
  int64be: [[7n, 7], [-1n, -1], [2n ** 53n - 1n, 2 ** 53 - 1], [2n ** 53n + 1n, 2n ** 53n + 1n], [
    -(2n ** 63n),
    -(2n ** 63n)
  ]],
  int64le: [[7n, 7], [-1n, -1], [2n ** 53n - 1n, 2 ** 53 - 1], [2n ** 53n + 1n, 2n ** 53n + 1n], [
    -(2n ** 63n),
    -(2n ** 63n)
  ]],
  uint64be: [[7n, 7], [2n ** 32n, 2 ** 32], [2n ** 53n + 1n, 2n ** 53n + 1n], [2n ** 64n - 1n, 2n ** 64n - 1n]],
  uint64le: [[7n, 7], [2n ** 32n, 2 ** 32], [2n ** 53n + 1n, 2n ** 53n + 1n], [2n ** 64n - 1n, 2n ** 64n - 1n]]
}

/** Writes `content` to a file named `name` in a fresh temporary directory; returns its path. */
const tempFile = (name: string, content: Uint8Array) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const directory = yield* fs.makeTempDirectoryScoped()
    const path = `${directory}/${name}`
    yield* fs.writeFile(path, content)
    return path
  })

/** All keys of the trace at `path`, read as the replay reads it. */
const readKeys = (path: string, format?: TraceFormat) =>
  Effect.gen(function*() {
    const trace = yield* openTrace(path, format)
    const batches = yield* Stream.runCollect(trace.keys)
    return Chunk.toReadonlyArray(batches).flat()
  })

describe("replay", () => {
  describe("formats", () => {
    it("lirs - skips checkpoint markers and blank lines", () => {
      const keys = decoded("lirs", bytes("1\n2\n*\n\n3\n*\n2\n\n"))

      expect(keys).toEqual([1, 2, 3, 2])
    })

    it("lirs - reads CRLF line endings and a last line without a newline", () => {
      const keys = decoded("lirs", bytes("10\r\n11\r\n\r\n12"))

      expect(keys).toEqual([10, 11, 12])
    })

    it("lirs - gives the same keys whatever the chunk boundaries", () => {
      const input = bytes("5\r\n*\r\n600\r\n\r\n70000\r\n8")

      expect(decodedBytewise("lirs", input)).toEqual([5, 600, 70000, 8])
    })

    it("lirs - keeps block numbers beyond 2^53 exact", () => {
      const keys = decoded("lirs", bytes("9007199254740993\n9007199254740991\n"))

      expect(keys).toEqual([9007199254740993n, 9007199254740991])
    })

    it("lirs - reports a malformed line with its line number", () => {
      const error = failure("lirs", bytes("1\n*\n\n2x\n3\n"))

      expect(error).toBeInstanceOf(MalformedTraceError)
      expect(error.line).toBe(4)
      expect(error.message).toBe(`line 4: expected a block number, found "2x"`)
    })

    it("lirs - a binary file read as text fails at once with a hint to pass --format", () => {
      const error = failure("lirs", new Uint8Array(5000).fill(65))

      expect(error.line).toBe(1)
      expect(error.reason).toContain("--format")
    })

    it("lirs - binary data read as text fails with a hint to pass --format", () => {
      const error = failure("lirs", encode("int32be", [5n, 10n, 300n]))

      expect(error.line).toBe(1)
      expect(error.reason).toMatch(/^found binary data; .* pass --format/)
    })

    it("arc - expands each line into num_blocks consecutive block requests", () => {
      const keys = decoded("arc", bytes("100 3 0 1\n7 1 0 2\r\n\n200 0 0 3\n50 2 0 4"))

      expect(keys).toEqual([100, 101, 102, 7, 50, 51])
    })

    it("arc - gives the same keys whatever the chunk boundaries", () => {
      const input = bytes("100 3 0 1\n7 1 0 2\n50 2 0 4\n")

      expect(decodedBytewise("arc", input)).toEqual([100, 101, 102, 7, 50, 51])
    })

    it("arc - a run crossing 2^53 stays exact", () => {
      const keys = decoded("arc", bytes("9007199254740990 3 0 1\n"))

      expect(keys).toEqual([9007199254740990, 9007199254740991, 9007199254740992n])
    })

    it("arc - reports a line with too few fields, or a negative run, with its line number", () => {
      const tooFew = failure("arc", bytes("1 1 0 1\n2 1 0 2\n3\n"))
      const negative = failure("arc", bytes("1 1 0 1\n2 -1 0 2\n"))

      expect(tooFew.line).toBe(3)
      expect(tooFew.reason).toContain("start_block num_blocks")
      expect(negative.line).toBe(2)
      expect(negative.reason).toContain("num_blocks")
    })

    for (const format of binaryFormats) {
      it(`${format} - decodes every value exactly, across chunk boundaries`, () => {
        const values = samples[format]
        const input = encode(format, values.map(([raw]) => raw))
        const expected = values.map(([, key]) => key)

        expect(decoded(format, input)).toEqual(expected)
        expect(decodedBytewise(format, input)).toEqual(expected)
      })
    }

    it("int64be - a value above 2^53 does not lose precision", () => {
      const keys = decoded("int64be", encode("int64be", [2n ** 60n + 1n, 2n ** 60n]))

      expect(keys).toEqual([2n ** 60n + 1n, 2n ** 60n])
      expect(keys[0]).not.toEqual(keys[1])
    })

    it("int32be - reports stray bytes at the end with their byte offset", () => {
      const error = failure("int32be", new Uint8Array([0, 0, 0, 1, 0, 0, 0, 2, 9, 9]))

      expect(error.byteOffset).toBe(8)
      expect(error.message).toContain("byte 8")
      expect(error.reason).toContain("2 stray byte(s)")
    })

    it("isGzip - detects gzip by its magic bytes, not by the file name", () => {
      expect(isGzip(gzipSync(bytes("1\n2\n")))).toBe(true)
      expect(isGzip(bytes("1\n2\n"))).toBe(false)
      expect(isGzip(new Uint8Array([0x1f]))).toBe(false)
    })

    it("formatFromFileName - .trace is lirs and .lis is arc, with or without .gz", () => {
      expect(formatFromFileName("gli.trace.gz")).toBe("lirs")
      expect(formatFromFileName("dir/LOOP.TRACE")).toBe("lirs")
      expect(formatFromFileName("OLTP.lis.gz")).toBe("arc")
      expect(formatFromFileName("P3.lis")).toBe("arc")
      expect(formatFromFileName("web07.bin.gz")).toBeUndefined()
    })
  })

  describe("trace files", () => {
    it.scoped("openTrace - reads a gzip file and a plain file to the same keys", () =>
      Effect.gen(function*() {
        const text = bytes("1\n*\n2\r\n\n3\n1\n")
        const gzipped = yield* tempFile("sample.trace.gz", gzipSync(text))
        const plain = yield* tempFile("sample.trace", text)

        const fromGzip = yield* readKeys(gzipped)
        const fromPlain = yield* readKeys(plain)

        expect(fromGzip).toEqual([1, 2, 3, 1])
        expect(fromPlain).toEqual([1, 2, 3, 1])
      }).pipe(Effect.provide(NodeContext.layer)))

    it.scoped("openTrace - detects gzip by content, even without a .gz name", () =>
      Effect.gen(function*() {
        const path = yield* tempFile("web.bin", gzipSync(encode("int32be", [5n, -5n, 5n])))

        const keys = yield* readKeys(path, "int32be")

        expect(keys).toEqual([5, -5, 5])
      }).pipe(Effect.provide(NodeContext.layer)))

    it.scoped("openTrace - a malformed line fails with the file name and the line number", () =>
      Effect.gen(function*() {
        const path = yield* tempFile("bad.lis.gz", gzipSync(bytes("1 1 0 1\n2 1 0 2\nthree 1 0 3\n")))

        const error = yield* Effect.flip(readKeys(path))

        expect(error._tag).toBe("ReplayError")
        expect(error.message).toMatch(/bad\.lis\.gz, line 3: expected "start_block num_blocks/)
        expect(error.message).not.toContain("\n")
      }).pipe(Effect.provide(NodeContext.layer)))

    it.scoped("openTrace - a missing file fails with a one-line message naming it", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const directory = yield* fs.makeTempDirectoryScoped()

        const error = yield* Effect.flip(openTrace(`${directory}/absent.trace`, undefined))

        expect(error.message).toBe(`cannot read ${directory}/absent.trace: no such file`)
      }).pipe(Effect.provide(NodeContext.layer)))

    it.scoped("openTrace - a name that tells no format fails and asks for --format", () =>
      Effect.gen(function*() {
        const path = yield* tempFile("trace.bin", new Uint8Array(8))

        const error = yield* Effect.flip(openTrace(path, undefined))

        expect(error.message).toContain("pass --format")
      }).pipe(Effect.provide(NodeContext.layer)))
  })

  describe("zipf", () => {
    it("makeZipf - the same seed gives the same keys, another seed other keys", () => {
      const draw = (seed: number) => {
        const next = makeZipf({ keys: 1000, skew: 0.9, seed })
        return Array.from({ length: 2000 }, () => next())
      }

      const first = draw(7)
      const again = draw(7)
      const other = draw(8)

      expect(again).toEqual(first)
      expect(other).not.toEqual(first)
      expect(first.every((key) => Number.isInteger(key) && key >= 0 && key < 1000)).toBe(true)
    })

    it("makeZipf - low keys are the popular ones", () => {
      const next = makeZipf({ keys: 100, skew: 1, seed: 1 })
      const counts = new Array<number>(100).fill(0)

      for (let i = 0; i < 100_000; i++) counts[next()]!++

      // Under s = 1 key 0 is drawn about twice as often as key 1 and 10 times as often as key 9.
      expect(counts[0]! / counts[1]!).toBeGreaterThan(1.8)
      expect(counts[0]! / counts[1]!).toBeLessThan(2.2)
      expect(counts[0]! / counts[9]!).toBeGreaterThan(8)
      expect(counts[0]! / counts[9]!).toBeLessThan(12)
    })

    it("makeRandom - draws in [0, 1) and repeats for a seed", () => {
      const a = makeRandom(123)
      const b = makeRandom(123)
      const draws = Array.from({ length: 1000 }, () => a())

      expect(draws.every((x) => x >= 0 && x < 1)).toBe(true)
      expect(Array.from({ length: 1000 }, () => b())).toEqual(draws)
    })

    it.effect("zipfStream - yields exactly the requested number of keys, in batches", () =>
      Effect.gen(function*() {
        const batches = yield* Stream.runCollect(
          zipfStream({ requests: 10_001, keys: 50, skew: 0.9, seed: 3 }, 1000)
        )

        const sizes = Chunk.toReadonlyArray(batches).map((batch) => batch.length)

        expect(sizes.length).toBe(11)
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_001)
      }))

    it("validateWorkload - rejects a workload that cannot be generated", () => {
      const workload = { requests: 10, keys: 10, skew: 0.9, seed: 1 }

      expect(validateWorkload(workload)).toBeUndefined()
      expect(validateWorkload({ ...workload, keys: 0 })).toContain("--keys")
      expect(validateWorkload({ ...workload, requests: -1 })).toContain("--requests")
      expect(validateWorkload({ ...workload, skew: Number.NaN })).toContain("--skew")
    })
  })

  describe("report", () => {
    it("makeReport - the hit ratio is a fraction and JSON carries every figure", () => {
      const counts = { requests: 8, hits: 2, misses: 6, loads: 6, evictions: 4 }
      const report = makeReport({ trace: "t.trace", format: "lirs", capacity: 2 }, counts, 4)

      const json = JSON.parse(formatJson(report))

      expect(report.hitRatio).toBe(0.25)
      expect(report.requestsPerSecond).toBe(2000)
      expect(json).toMatchObject({
        trace: "t.trace",
        capacity: 2,
        requests: 8,
        hits: 2,
        misses: 6,
        hitRatio: 0.25,
        loads: 6,
        evictions: 4,
        wallMs: 4,
        requestsPerSecond: 2000
      })
      expect(formatTable(report)).toContain("25.00 %")
    })
  })

  describe("replayKeys", () => {
    it.effect("replayKeys - a loop one key longer than the cache never hits under LRU", () =>
      Effect.gen(function*() {
        const loop = Array.from({ length: 5 }, () => [0, 1, 2, 3, 4])

        const counts = yield* replayKeys(Stream.fromIterable(loop), 4)

        expect(counts).toEqual({ requests: 25, hits: 0, misses: 25, loads: 25, evictions: 21 })
      }))

    it.effect("replayKeys - a loop that fits misses only its first pass", () =>
      Effect.gen(function*() {
        const loop = Array.from({ length: 5 }, () => [0, 1, 2, 3, 4])

        const counts = yield* replayKeys(Stream.fromIterable(loop), 5)

        expect(counts).toEqual({ requests: 25, hits: 20, misses: 5, loads: 5, evictions: 0 })
      }))

    it.effect("replayKeys - bigint keys above 2^53 stay distinct keys", () =>
      Effect.gen(function*() {
        const keys = [[2n ** 60n, 2n ** 60n + 1n, 2n ** 60n, 2n ** 60n + 1n]]

        const counts = yield* replayKeys(Stream.fromIterable(keys), 10)

        expect(counts).toMatchObject({ requests: 4, hits: 2, misses: 2 })
      }))
  })
})
