// Every engine of `check` runs on a thread of its own: the proofs so that they run while the
// exploring engines search on the other core, and the searches and the corpus's replay so that the
// main thread stays free to take SIGINT / SIGTERM (a signal is delivered to the main thread's
// event loop, which a synchronous search would hold until it ends). A signal raises the shared
// stop flag: the searches poll it and return what they found (their counterexamples written);
// the proofs and the replay, which write nothing, are abandoned (their thread is terminated).
//
// What crosses to the thread is data: property ids, the fault's name; the thread resolves them as
// the CLI does, runs the engine and posts its reports back.

import { parentPort, Worker, workerData } from "node:worker_threads";
import type { NamedConfig } from "../configs.js";
import { maskRealModelFindings } from "../faults/known.js";
import { faultLookup, faultOption } from "../faults/registry.js";
import { selectProperties, selectTemporal } from "../replay.js";
import type { EngineReport } from "./report.js";
import type { KnownFinding } from "./baseline.js";
import type { BfsRunOptions } from "./run-bfs.js";
import type { RandomRunOptions } from "./run-random.js";
import type { SmtRunOptions } from "./run-smt.js";

/** A searching engine that has not answered this long after the stop flag is terminated. */
const STOP_GRACE_MS = 3000;

/** The stop flag, shared with every engine thread. */
export class Stop {
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));
  private readonly listeners = new Set<() => void>();

  get buffer(): SharedArrayBuffer {
    return this.cell.buffer as SharedArrayBuffer;
  }
  get raised(): boolean {
    return Atomics.load(this.cell, 0) !== 0;
  }
  raise(): void {
    Atomics.store(this.cell, 0, 1);
    for (const l of this.listeners) l();
  }
  onRaise(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** The options an engine is run with, less what the thread resolves itself. */
type Resolved = "properties" | "temporal" | "variant" | "fault" | "stopped";
export type EngineJob = { named: NamedConfig; properties: readonly string[]; temporal?: readonly string[]; fault?: string } & (
  | { engine: "bfs"; options: Omit<BfsRunOptions, Resolved> }
  | { engine: "random"; options: Omit<RandomRunOptions, Resolved> }
  | { engine: "smt"; options: Omit<SmtRunOptions, Resolved> }
  | { engine: "corpus"; options: { files: readonly string[]; baseline: readonly KnownFinding[] } }
);

interface ThreadData {
  role: "engine";
  job: EngineJob;
  stop: SharedArrayBuffer;
  /** The main thread's stderr is a terminal: progress is a live line there too. */
  tty: boolean;
}

/**
 * What an engine stopped before it reported says: nothing it set out to do is done. A proof cut
 * by --time-limit is a proof asked for and not made: unproved.
 */
function abandoned(job: EngineJob, stop: string): EngineReport {
  const status = job.engine === "smt" && stop === "time-limit" ? "unproved" : "bounded";
  return {
    engine: job.engine,
    config: job.engine === "corpus" ? `${job.options.files.length} traces` : job.named.name,
    complete: false,
    stop,
    stats: {},
    verdicts: job.properties.map((property) => ({ property, status, message: `${stop} before it was checked` })),
    warnings: [],
  };
}

/**
 * The engine run on a worker thread: the promise of its reports. With `timeLimitMs` (check's
 * --time-limit) a proof still running at the limit is stopped: z3 cannot be polled, and a big
 * world's proofs must not outlast the limit (the searches stop themselves).
 */
export function runOnThread(job: EngineJob, stop: Stop, timeLimitMs?: number): Promise<EngineReport[]> {
  const data: ThreadData = { role: "engine", job, stop: stop.buffer, tty: process.stderr.isTTY === true };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: data });
    let grace: NodeJS.Timeout | undefined;
    let limited = false;
    const limit = job.engine !== "smt" || timeLimitMs === undefined ? undefined : setTimeout(() => {
      limited = true;
      void worker.terminate();
    }, timeLimitMs);
    const off = stop.onRaise(() => {
      if (job.engine === "smt" || job.engine === "corpus") void worker.terminate();
      else grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    });
    const settle = () => {
      off();
      clearTimeout(grace);
      clearTimeout(limit);
    };
    worker.once("message", (reports: EngineReport[]) => {
      settle();
      resolve(reports);
    });
    worker.once("error", (e) => {
      settle();
      reject(e);
    });
    worker.once("exit", (code) => {
      settle();
      if (limited) resolve([abandoned(job, "time-limit")]);
      else if (stop.raised) resolve([abandoned(job, "interrupted")]);
      else reject(new Error(`the ${job.engine} thread exited (${code}) without its reports`));
    });
  });
}

// Each thread loads only its engine's modules: z3's is large, and a search need not wait for it.
async function runJob({ job, stop }: ThreadData): Promise<EngineReport[]> {
  const flag = new Int32Array(stop);
  const stopped = () => Atomics.load(flag, 0) !== 0;
  if (job.engine === "corpus") {
    const { replayCorpus } = await import("./corpus.js");
    return [replayCorpus(job.options.files, job.options.baseline, faultLookup)];
  }
  const properties = selectProperties(job.properties);
  const fault = faultOption(job.fault);
  if (job.engine === "smt") return (await import("./run-smt.js")).runSmt(job.named, { ...job.options, properties, fault });
  // Under a fault, the real model's known findings are masked: they are not the fault's doing.
  const faulty = fault && { properties: maskRealModelFindings(properties, job.options.baseline), variant: fault.variant, fault: fault.name };
  const o = { properties, temporal: selectTemporal(job.temporal ?? []), ...faulty, stopped };
  if (job.engine === "bfs") return [await (await import("./run-bfs.js")).runBfs(job.named, { ...job.options, ...o })];
  return [(await import("./run-random.js")).runRandom(job.named, { ...job.options, ...o })];
}

// Guarded by its role: an engine thread may start threads of its own (bfs --workers), which load
// this module too.
if (parentPort && (workerData as Partial<ThreadData> | undefined)?.role === "engine") {
  const data = workerData as ThreadData;
  // A worker's stderr is a pipe to the main thread's: progress follows the main thread's terminal.
  if (data.tty) Object.defineProperty(process.stderr, "isTTY", { value: true });
  const reports = await runJob(data);
  // The progress line's last write reaches the terminal before the main thread prints the reports.
  await new Promise((written) => process.stderr.write("", written));
  parentPort.postMessage(reports);
  // z3 keeps threads of its own alive: the reports are out, so the thread ends here.
  if (data.job.engine === "smt") process.exit(0);
}
