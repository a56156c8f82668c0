// The SMT engine's cost: the whole induction (every goal over every transition, for every memory
// size), with the proof time per transition and in total, the verdict per goal, and each
// counterexample to induction with its replay on the reference engine; then BMC on tiny.
//
//   node dist/bench/smt-bench.js [--timeout MS] [--actions a,b] [--goals g,h] [--bmc K] [--json]

import { formatStep, ACTION_BY_NAME } from "../model/actions.js";
import { World } from "../model/world.js";
import { resolveConfig } from "../src/configs.js";
import { bmc } from "../src/smt/bmc.js";
import { prove, type Obligation } from "../src/smt/prove.js";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const list = (s: string | undefined) => s?.split(",").filter(Boolean);
const json = process.argv.includes("--json");
const log = (line: string) => process.stderr.write(`${line}\n`);

const report = await prove({
  timeoutMs: Number(flag("timeout") ?? 60_000),
  actions: list(flag("actions")),
  goals: list(flag("goals")),
  onObligation: (o) => log(`${o.transition.padEnd(36)} ${o.goal.padEnd(30)} ${o.verdict.padEnd(8)} ${o.ms} ms`),
});

const byTransition = new Map<string, Obligation[]>();
for (const o of report.obligations) byTransition.set(o.transition, [...(byTransition.get(o.transition) ?? []), o]);
const count = (os: readonly Obligation[], v: Obligation["verdict"]) => os.filter((o) => o.verdict === v).length;

const rows = [...byTransition].map(([transition, os]) => ({
  transition,
  ms: os.reduce((t, o) => t + o.ms, 0),
  proved: count(os, "proved"),
  cti: count(os, "cti"),
  unknown: count(os, "unknown"),
}));

const goals = [...new Set(report.obligations.map((o) => o.goal))].map((goal) => {
  const os = report.obligations.filter((o) => o.goal === goal);
  return { goal, proved: count(os, "proved"), cti: count(os, "cti"), unknown: count(os, "unknown") };
});

const depth = Number(flag("bmc") ?? 3);
const tiny = new World(resolveConfig("tiny").config);
const b = await bmc(tiny, depth);

if (json) {
  console.log(JSON.stringify({ shape: report.shape, totalMs: report.ms, transitions: rows, goals, obligations: report.obligations, bmc: b }, null, 2));
} else {
  console.log(`SMT proofs, shape ${JSON.stringify(report.shape)}, every memory size`);
  console.log(`${"transition".padEnd(36)} ${"ms".padStart(8)}  proved  cti  unknown`);
  for (const r of rows) console.log(`${r.transition.padEnd(36)} ${String(r.ms).padStart(8)}  ${String(r.proved).padStart(6)}  ${String(r.cti).padStart(3)}  ${String(r.unknown).padStart(7)}`);
  console.log(`total ${report.ms} ms, ${report.obligations.length} obligations`);
  console.log("\nper goal (obligations proved / cti / unknown):");
  for (const g of goals) console.log(`  ${g.goal.padEnd(30)} ${g.proved} / ${g.cti} / ${g.unknown}`);
  const ctis = report.obligations.filter((o) => o.cti);
  if (ctis.length > 0) console.log("\ncounterexamples to induction (replayed on the reference engine):");
  for (const o of ctis) {
    const step = formatStep({ action: ACTION_BY_NAME.get(o.cti!.step.action)!, args: o.cti!.step.args });
    console.log(`  ${o.goal} by ${step} in ${JSON.stringify(o.cti!.config)}: ${o.cti!.replay.ret}, ${o.cti!.replay.violation ?? "no violation on the engine"}`);
  }
  const unknown = report.obligations.filter((o) => o.verdict === "unknown");
  if (unknown.length > 0) console.log(`\nunknown: ${unknown.map((o) => `${o.transition}/${o.goal}`).join(", ")}`);
  console.log(`\nBMC on tiny, ${depth} steps: ${b.ms} ms; violated: ${b.violations.map((v) => `${v.property}@${v.depth}`).join(", ") || "none"}; unknown: ${b.unknown.join(", ") || "none"}`);
}
