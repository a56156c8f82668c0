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

/** runSmt() on a worker thread: the promise of its reports. */
export function runSmtOnThread(named: NamedConfig, o: SmtRunOptions): Promise<EngineReport[]> {
  const job: Job = { ...o, named, properties: o.properties.map((p) => p.id), fault: o.fault?.name };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the smt thread exited (${code}) without its reports`)));
  });
}

if (parentPort && workerData) {
  const { named, properties, fault, ...o } = workerData as Job;
  const reports = await runSmt(named, { ...o, properties: selectProperties(properties), fault: faultOption(fault) });
  parentPort.postMessage(reports);
  // z3 keeps threads of its own alive: the reports are out, so the thread ends here.
  process.exit(0);
}
