// The SMT engine on a thread of its own, so that the gate's proofs run while the exploring engines
// search on the other core. What crosses to the thread is data: property ids, the fault's name;
// the thread resolves them as the CLI does, runs runSmt() and posts its reports back.

import { parentPort, Worker, workerData } from "node:worker_threads";
import { faultOption } from "../faults/registry.js";
import { selectProperties } from "../replay.js";
import type { EngineReport } from "./report.js";
import { runSmt, type SmtRunOptions } from "./run-smt.js";
import type { NamedConfig } from "../configs.js";

interface Job extends Omit<SmtRunOptions, "properties" | "fault"> {
  named: NamedConfig;
  properties: readonly string[];
  fault?: string;
}

/**
 * runSmt() on a worker thread: the promise of its reports. With `timeLimitMs` (check's
 * --time-limit) the thread is stopped at the limit and every proof it was making is reported
 * bounded, "stopped by time-limit": a big world's proofs must not outlast the limit.
 */
export function runSmtOnThread(named: NamedConfig, o: SmtRunOptions, timeLimitMs?: number): Promise<EngineReport[]> {
  const job: Job = { ...o, named, properties: o.properties.map((p) => p.id), fault: o.fault?.name };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    // setTimeout fires at once past 2^31 - 1 ms (24 days): such a limit is no limit.
    const timer = timeLimitMs === undefined || timeLimitMs > 2 ** 31 - 1 ? undefined : setTimeout(() => {
      resolve([stoppedAtLimit(named, o, timeLimitMs)]);
      void worker.terminate();
    }, timeLimitMs);
    worker.once("message", (reports: EngineReport[]) => {
      clearTimeout(timer);
      resolve(reports);
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the smt thread exited (${code}) without its reports`)));
  });
}

function stoppedAtLimit(named: NamedConfig, o: SmtRunOptions, ms: number): EngineReport {
  return {
    engine: "smt",
    config: `every memory size, shape of ${named.name}${o.fault ? `, fault ${o.fault.name}` : ""}`,
    complete: false,
    stop: "time-limit",
    stats: { seconds: ms / 1000 },
    verdicts: o.properties.map((p) => ({ property: p.id, status: "bounded" })),
    warnings: [],
  };
}

if (parentPort && workerData) {
  const { named, properties, fault, ...o } = workerData as Job;
  const reports = await runSmt(named, { ...o, properties: selectProperties(properties), fault: faultOption(fault) });
  parentPort.postMessage(reports);
  // z3 keeps threads of its own alive: the reports are out, so the thread ends here.
  process.exit(0);
}
