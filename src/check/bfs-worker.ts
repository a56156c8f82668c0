// One thread of the parallel exhaustive search (src/explore/workers.ts). What crosses to the
// thread is data: the config, the fault's name, property ids, the baseline; the thread builds
// the same engine, alphabet, properties and known-finding classifier as the main thread, then
// expands each level it is handed.

import { parentPort, workerData } from "node:worker_threads";
import { World } from "../../model/world.js";
import type { WorldConfig } from "../../model/config.js";
import { alphabet } from "../alphabet.js";
import { Engine } from "../engine.js";
import { Symmetry } from "../explore/symmetry.js";
import { expandLevel, levelWorker, type LevelMessage, type LevelWorker } from "../explore/workers.js";
import { maskRealModelFindings } from "../faults/known.js";
import { faultOption } from "../faults/registry.js";
import { selectProperties } from "../replay.js";
import { matchKnown, type KnownFinding } from "./baseline.js";

export interface BfsJob {
  config: WorldConfig;
  fault?: string;
  properties: string[];
  baseline: KnownFinding[];
  allowInternal: boolean;
  symmetry: boolean;
  keepGoing: boolean;
  maxStates?: number;
}

/** The search's pieces, built the same way on every thread. */
export function bfsPieces(job: BfsJob) {
  const world = new World(job.config);
  const fault = faultOption(job.fault);
  const engine = new Engine(world, fault?.variant);
  const steps = alphabet(world, { allowInternal: job.allowInternal });
  const selected = selectProperties(job.properties);
  // Under a fault the real model's known findings are masked, and nothing else is known.
  const properties = fault ? maskRealModelFindings(selected, job.baseline) : selected;
  const known = fault ? undefined : (property: string, step?: { action: { name: string } }) => matchKnown(job.baseline, property, step?.action.name);
  const symmetry = job.symmetry ? new Symmetry(world) : undefined;
  return { world, engine, steps, properties, known, symmetry };
}

/** This module as compiled: a worker thread cannot load TypeScript (the tests import sources). */
const WORKER_FILE = import.meta.url.endsWith(".ts") ? new URL("../../dist/src/check/bfs-worker.js", import.meta.url) : new URL(import.meta.url);

export function bfsWorkers(job: BfsJob, n: number): LevelWorker[] {
  return Array.from({ length: n }, () => levelWorker(WORKER_FILE, { ...job, role: "bfs-level" }));
}

// Guarded by its role: this module is also loaded on the engine thread that starts the workers.
if (parentPort && (workerData as { role?: string } | undefined)?.role === "bfs-level") {
  const job = workerData as BfsJob;
  const { engine, steps, properties, known, symmetry } = bfsPieces(job);
  const port = parentPort;
  port.on("message", (m: LevelMessage) => {
    const done = expandLevel(engine, steps, { properties, known, keepGoing: job.keepGoing, maxStates: job.maxStates }, symmetry, m);
    port.postMessage(done, [done.next.buffer as ArrayBuffer]);
  });
}
