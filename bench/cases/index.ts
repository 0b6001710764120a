/**
 * Every case of the bench, in the order the results list them.
 */
import type { CaseDef } from "../lib/protocol.js"
import { fanout } from "./fanout.js"
import { hitEffect } from "./hitEffect.js"
import { hitRatioCases } from "./hitRatio.js"
import { hitRunSync } from "./hitRunSync.js"
import { hitSync } from "./hitSync.js"
import { memory } from "./memory.js"
import { miss } from "./miss.js"
import { promiseFanout } from "./promiseFanout.js"
import { replay } from "./replay.js"

export const CASES: ReadonlyArray<CaseDef> = [
  hitSync,
  hitEffect,
  hitRunSync,
  miss,
  fanout,
  promiseFanout,
  memory,
  replay,
  ...hitRatioCases
]
