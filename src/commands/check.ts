// `pkvm-check check`: the CI gate. With no flags: the exhaustive search of the default config,
// then the regression corpus under counterexamples/. Every flag is validated before anything
// runs, so that bad input (exit 2) writes nothing under counterexamples/.

import { writeFileSync } from "node:fs";
import type { CommandModule } from "yargs";
import { InputError } from "../../model/config.js";
import { readBaseline, DEFAULT_BASELINE } from "../check/baseline.js";
import { replayCorpus, traceFiles } from "../check/corpus.js";
import { failed, type EngineReport } from "../check/report.js";
import { runBfs } from "../check/run-bfs.js";
import { runRandom } from "../check/run-random.js";
import { runSmtOnThread } from "../check/smt-worker.js";
import { resolveConfig } from "../configs.js";
import { maskRealModelFindings } from "../faults/known.js";
import { faultLookup, faultOption } from "../faults/registry.js";
import { formatCheck } from "../report/check-text.js";
import { junitXml } from "../report/junit.js";
import { sarifLog } from "../report/sarif.js";
import { selectProperties } from "../replay.js";
import { EXIT } from "./exit.js";
import { writeItfNextTo } from "./export.js";
import { checkOutputDir, checkOutputFile, writeOutput } from "./output.js";
import { writeReportInto } from "./report.js";

const ENGINES = ["bfs", "random", "smt"] as const;
type EngineName = (typeof ENGINES)[number];

interface CheckArgs {
  config?: string;
  engine?: string[];
  json: boolean;
  junit?: string;
  sarif?: string;
  html?: string;
  itf: boolean;
  out: string;
  "keep-going": boolean;
  "max-states"?: number;
  "max-depth"?: number;
  "time-limit"?: number;
  property?: string[];
  "allow-internal": boolean;
  strict: boolean;
  "require-complete": boolean;
  baseline: string;
  corpus: boolean;
  seed: string;
  runs?: number;
  "max-steps"?: number;
  shard?: string;
  "replay-path"?: string;
  bmc?: number;
  "smt-timeout": number;
  fault?: string;
}

/**
 * The gate proves the two headline properties for every memory size: each a corollary of the
 * isolation invariant (src/smt/prove.ts), which it proves inductive over every transition the
 * adversary can take (661 obligations, about a minute on the proofs' own thread). The other
 * properties' proofs take longer and are for --engine smt.
 */
const GATE_SMT = ["host-cannot-access-guest", "guest-cannot-access-host"];

/** The gate's random run: a fixed seed and a budget that keeps `check` well under two minutes. */
const GATE_RANDOM = { config: "wide", runs: 3000 };

function seedOf(s: string): number {
  if (s === "random") return Math.floor(Math.random() * 2 ** 31);
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n >= 2 ** 32) {
    throw new InputError(`--seed: expected a non-negative 32-bit integer or "random", got "${s}"`);
  }
  return n | 0;
}

function shardOf(s: string | undefined): { index: number; count: number } | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new InputError(`--shard: expected I/N with 0 <= I < N, got "${s}"`);
  return { index, count };
}

/** A flag that must be a positive integer (yargs lets NaN and fractions through). */
function count(value: number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new InputError(`--${flag}: expected a positive integer, got ${value}`);
  return value;
}

function engines(names: string[] | undefined): EngineName[] {
  if (!names) return ["bfs", "random", "smt"];
  return names.flatMap((n) => n.split(",")).map((n) => {
    if (!(ENGINES as readonly string[]).includes(n)) throw new InputError(`--engine: unknown engine "${n}" (known: ${ENGINES.join(", ")})`);
    return n as EngineName;
  });
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: "check",
  describe: "explore the model with the chosen engines, check every property, write counterexamples",
  builder: (y) =>
    y
      .option("config", { type: "string", describe: 'a built-in config name or a JSON world config file (default: "default")' })
      .option("engine", { type: "string", array: true, describe: `engines to run (${ENGINES.join(", ")}); default: all three, smt on the headline properties` })
      .option("json", { type: "boolean", default: false, describe: "print a machine-readable summary on stdout" })
      .option("junit", { type: "string", describe: "write a JUnit XML report to this file" })
      .option("sarif", { type: "string", describe: "write a SARIF 2.1.0 report to this file" })
      .option("html", { type: "string", describe: "write an HTML report of every counterexample into this directory" })
      .option("itf", { type: "boolean", default: false, describe: "write every counterexample also in ITF, as .itf.json next to it" })
      .option("out", { type: "string", default: "counterexamples", describe: "directory for counterexample traces" })
      .option("keep-going", { type: "boolean", default: false, describe: "collect one counterexample per violated property" })
      .option("max-states", { type: "number", describe: "stop the search after this many distinct states" })
      .option("max-depth", { type: "number", describe: "do not expand states deeper than this" })
      .option("time-limit", { type: "number", describe: "stop the search after this many seconds" })
      .option("property", { type: "string", array: true, describe: "check only these property ids" })
      .option("allow-internal", { type: "boolean", default: false, describe: "let the adversary call hyp-internal transitions (hyp_donate_host)" })
      .option("strict", { type: "boolean", default: false, describe: "fail on known findings too" })
      .option("require-complete", { type: "boolean", default: false, describe: "exit 1 when a search is cut short by a limit" })
      .option("baseline", { type: "string", default: DEFAULT_BASELINE, describe: "the known-findings baseline" })
      .option("corpus", { type: "boolean", default: true, describe: "replay the traces under --out as a regression corpus" })
      .option("seed", { type: "string", default: "42", describe: 'random engine: the seed, or "random" (the seed used is printed)' })
      .option("runs", { type: "number", describe: "random engine: runs to generate" })
      .option("max-steps", { type: "number", describe: "random engine: the longest run, in steps" })
      .option("shard", { type: "string", describe: "random engine: I/N, this job's share of N parallel CI jobs" })
      .option("replay-path", { type: "string", describe: "random engine: replay the run at this fast-check path (with --seed)" })
      .option("bmc", { type: "number", describe: "smt engine: also model-check the config itself up to this many steps" })
      .option("smt-timeout", { type: "number", default: 30, describe: "smt engine: seconds per proof obligation" })
      .option("fault", { type: "string", describe: "explore this seeded fault (pkvm-check faults --list) instead of the real model; on its own config unless --config" }),
  handler: async (argv) => {
    const fault = faultOption(argv.fault);
    const named = argv.config === undefined && fault?.config ? fault.config : resolveConfig(argv.config ?? "default");
    const properties = selectProperties(argv.property);
    const chosen = engines(argv.engine);
    const baseline = readBaseline(argv.baseline);
    const limits = {
      maxStates: count(argv["max-states"], "max-states"),
      maxDepth: count(argv["max-depth"], "max-depth"),
      timeLimitMs: argv["time-limit"] === undefined ? undefined : count(argv["time-limit"], "time-limit")! * 1000,
    };
    const gate = argv.engine === undefined;
    const randomConfig = gate && argv.config === undefined ? (fault?.config ?? resolveConfig(GATE_RANDOM.config)) : named;
    // Under a fault, the real model's known findings are masked: they are not the fault's doing.
    const faulty = fault && { properties: maskRealModelFindings(properties, baseline), variant: fault.variant, fault: fault.name };
    const random = {
      seed: seedOf(argv.seed),
      runs: count(argv.runs, "runs") ?? (gate ? GATE_RANDOM.runs : undefined),
      maxSteps: count(argv["max-steps"], "max-steps"),
      shard: shardOf(argv.shard),
      replayPath: argv["replay-path"],
    };
    const smt = { bmcDepth: count(argv.bmc, "bmc"), timeoutMs: count(argv["smt-timeout"], "smt-timeout")! * 1000 };
    if (fault && !fault.smt && argv.engine !== undefined && chosen.includes("smt")) throw new InputError(`--fault: ${fault.name} has no SMT twin: ${fault.smtNa}`);
    checkOutputDir(argv.out, "--out");
    if (argv.junit !== undefined) checkOutputFile(argv.junit, "--junit");
    if (argv.sarif !== undefined) checkOutputFile(argv.sarif, "--sarif");
    if (argv.html !== undefined) checkOutputDir(argv.html, "--html");
    const corpus = traceFiles(argv.out); // before this run adds its own counterexamples

    const reports: EngineReport[] = [];
    const running = fault && !fault.smt ? chosen.filter((e) => e !== "smt") : chosen;
    // The proofs take one core for a minute or two: they start first, on a thread of their own.
    let proofs: Promise<EngineReport[]> | undefined;
    if (running.includes("smt")) {
      if (!argv.json) process.stderr.write("smt: proving with z3 (on its own thread)...\n");
      const proved = gate && argv.property === undefined ? properties.filter((p) => GATE_SMT.includes(p.id)) : properties;
      proofs = runSmtOnThread(named, { properties: proved, out: argv.out, baseline, allowInternal: argv["allow-internal"], ...smt, fault }, limits.timeLimitMs);
    }
    for (const engine of running) {
      if (engine === "bfs") {
        reports.push(runBfs(named, {
          properties,
          out: argv.out,
          keepGoing: argv["keep-going"],
          allowInternal: argv["allow-internal"],
          ...limits,
          baseline,
          progress: !argv.json,
          ...faulty,
        }));
      } else if (engine === "smt") {
        reports.push(...(await proofs!));
      } else {
        if (!argv.json) process.stderr.write(`random: seed ${random.seed}\n`);
        reports.push(runRandom(randomConfig, {
          properties,
          out: argv.out,
          keepGoing: argv["keep-going"],
          allowInternal: argv["allow-internal"],
          timeLimitMs: limits.timeLimitMs,
          ...random,
          baseline,
          progress: !argv.json,
          ...faulty,
        }));
      }
    }
    if (argv.corpus) reports.push(replayCorpus(corpus, baseline, faultLookup));

    if (argv.junit) writeFileSync(argv.junit, junitXml(reports));
    const bad = reports.some((r) => failed(r, argv.strict)) || (argv["require-complete"] && reports.some((r) => !r.complete));
    const failures = reports.flatMap((r) => r.verdicts).filter((v) => v.status === "fail" && v.counterexample);
    for (const file of new Set(failures.map((v) => v.counterexample!))) {
      if (argv.itf) writeItfNextTo(file, fault?.variant);
      if (argv.html !== undefined) writeReportInto(argv.html, file, fault?.variant);
    }
    if (argv.sarif !== undefined) {
      const sarif = sarifLog(reports, { properties, strict: argv.strict, exitCode: bad ? EXIT.FAILED : EXIT.OK });
      writeOutput(argv.sarif, `${JSON.stringify(sarif, null, 2)}\n`, "--sarif");
    }
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ ok: !bad, reports }, null, 2)}\n`);
    } else {
      process.stdout.write(`${reports.map(formatCheck).join("\n")}\n${bad ? "check: FAILED" : "check: ok"}\n`);
    }
    process.exitCode = bad ? EXIT.FAILED : EXIT.OK;
  },
};
