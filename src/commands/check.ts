// `pkvm-check check`: the CI gate. With no flags: the exhaustive search of the default config,
// then the regression corpus under counterexamples/. Every flag is validated before anything
// runs, so that bad input (exit 2) writes nothing under counterexamples/.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandModule } from "yargs";
import { InputError } from "../../model/config.js";
import { readBaseline } from "../check/baseline.js";
import { checkCorpus, traceFiles } from "../check/corpus.js";
import { runOnThread, Stop } from "../check/engine-thread.js";
import { baselineOf, findProject } from "../check/project.js";
import { failed, type EngineReport } from "../check/report.js";
import { SMT_RLIMIT } from "../check/run-smt.js";
import { GATE_PROPERTIES } from "../smt/scope.js";
import { resolveConfig } from "../configs.js";
import { faultOption } from "../faults/registry.js";
import { formatCheck } from "../report/check-text.js";
import { junitXml } from "../report/junit.js";
import { sarifLog } from "../report/sarif.js";
import { selectProperties, selectTemporal } from "../replay.js";
import { onInterrupt, signalExitCode, type StopSignal } from "../io/interrupt.js";
import { checkOutputDir, checkOutputFile } from "../io/output-path.js";
import { WriteError, writeFileAtomic } from "../io/write-file.js";
import { EXIT } from "./exit.js";
import { checkRenderable } from "./output.js";
import { writeItfNextTo } from "./export.js";
import { writeReportInto } from "./report.js";

const ENGINES = ["bfs", "random", "smt"] as const;
type EngineName = (typeof ENGINES)[number];

interface CheckArgs {
  config?: string;
  engine?: string[];
  json: boolean;
  progress?: boolean;
  junit?: string;
  sarif?: string;
  html?: string;
  itf: boolean;
  out?: string;
  "corpus-dir"?: string;
  "keep-going": boolean;
  "max-states"?: number;
  "max-depth"?: number;
  "time-limit"?: number;
  property?: string[];
  "allow-internal": boolean;
  strict: boolean;
  "require-complete": boolean;
  baseline?: string;
  corpus: boolean;
  seed: string;
  runs?: number;
  "max-steps"?: number;
  shard?: string;
  "replay-path"?: string;
  bmc?: number;
  "smt-timeout"?: number;
  "smt-rlimit": number;
  "allow-unproved": boolean;
  fault?: string;
  symmetry: boolean;
  workers?: number;
  "emit-smtlib"?: string;
}

/**
 * The gate proves the two headline properties for every memory size: each a corollary of the
 * isolation invariant (src/smt/prove.ts), which it proves inductive over every transition the
 * adversary can take (661 obligations, about a minute on the proofs' own thread). The other
 * properties' proofs take longer and are for --engine smt.
 */
const GATE_SMT = GATE_PROPERTIES;

/** The version of `check --json`'s document (schemas/check-report.schema.json). */
const CHECK_JSON_VERSION = 1;

/**
 * Without --config, the exhaustive search also covers `reuse`: four host pages and a reused VM
 * handle, too many states next to `default`'s two VM kinds in one world.
 */
const GATE_BFS_EXTRA = "reuse";

/** The gate's random run: a fixed seed and a budget that keeps `check` well under two minutes. */
const GATE_RANDOM = { config: "wide", runs: 3000 };

function seedOf(s: string): number {
  if (s === "random") return Math.floor(Math.random() * 2 ** 31);
  const n = Number(s);
  // fast-check's seeds are signed 32-bit: a shard's own seed prints negative half the time.
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(n) || n < -(2 ** 31) || n >= 2 ** 32) {
    throw new InputError(`--seed: expected a 32-bit integer (-2147483648 .. 4294967295) or "random", got "${s}"`);
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
      .option("progress", { type: "boolean", describe: "progress on stderr (default: on, except with --json when stderr is not a terminal)" })
      .option("junit", { type: "string", describe: "write a JUnit XML report to this file" })
      .option("sarif", { type: "string", describe: "write a SARIF 2.1.0 report to this file" })
      .option("html", { type: "string", describe: "write an HTML report of every counterexample into this directory" })
      .option("itf", { type: "boolean", default: false, describe: "write every counterexample also in ITF, as .itf.json next to it" })
      .option("out", { type: "string", describe: "directory for new counterexample traces (default: the corpus; with --fault, a temporary directory)" })
      .option("corpus-dir", { type: "string", describe: "the regression corpus (default: the project's counterexamples/, see pkvm-check.json)" })
      .option("keep-going", { type: "boolean", default: false, describe: "collect one counterexample per violated property" })
      .option("max-states", { type: "number", describe: "stop the search after this many distinct states" })
      .option("max-depth", { type: "number", describe: "do not expand states deeper than this" })
      .option("time-limit", { type: "number", describe: "stop the search after this many seconds" })
      .option("property", { type: "string", array: true, describe: "check only these property ids" })
      .option("allow-internal", { type: "boolean", default: false, describe: "let the adversary call hyp-internal transitions (hyp_donate_host)" })
      .option("strict", { type: "boolean", default: false, describe: "fail on known findings too" })
      .option("require-complete", { type: "boolean", default: false, describe: "exit 1 when a search is cut short by a limit" })
      .option("baseline", { type: "string", describe: "the known-findings baseline (default: the project's findings/known-findings.json, see pkvm-check.json)" })
      .option("corpus", { type: "boolean", default: true, describe: "replay the traces of the corpus (--corpus-dir) as a regression corpus" })
      .option("seed", { type: "string", default: "42", describe: 'random engine: the seed, or "random" (the seed used is printed)' })
      .option("runs", { type: "number", describe: "random engine: runs to generate" })
      .option("max-steps", { type: "number", describe: "random engine: the longest run, in steps" })
      .option("shard", { type: "string", describe: "random engine: I/N, this job's share of N parallel CI jobs" })
      .option("replay-path", { type: "string", describe: "random engine: replay the run at this fast-check path (with --seed)" })
      .option("bmc", { type: "number", describe: "smt engine: also model-check the config itself up to this many steps" })
      .option("smt-rlimit", { type: "number", default: SMT_RLIMIT, describe: "smt engine: z3 resource units per proof obligation, the same on a loaded machine as on an idle one (0: none, --smt-timeout bounds each check)" })
      .option("smt-timeout", { type: "number", describe: "smt engine: seconds per proof obligation, a safety net beside --smt-rlimit (default 600); --bmc: six times this per query (default 30)" })
      .option("emit-smtlib", { type: "string", describe: "smt engine: write every check z3 answers in the proof as an SMT-LIB 2 file into this directory (npm run proofs:recheck re-checks them)" })
      .option("allow-unproved", { type: "boolean", default: false, describe: "pass although a proof asked for did not complete (a counterexample to induction, obligations unknown)" })
      .option("symmetry", { type: "boolean", default: true, describe: "bfs: store one state per orbit of the pages, VM slots and vCPU slots the model cannot tell apart (--no-symmetry: every state; a seeded fault's search is never reduced)" })
      .option("workers", { type: "number", describe: "bfs: threads that expand states (default 1: two measured no faster on 2 shared cores, and temporal properties need one)" })
      .option("fault", { type: "string", describe: "explore this seeded fault (pkvm-check faults --list) instead of the real model; on its own config unless --config" }),
  handler: async (argv) => {
    const fault = faultOption(argv.fault);
    const named = argv.config === undefined && fault?.config ? fault.config : resolveConfig(argv.config ?? "default");
    const properties = selectProperties(argv.property);
    // Temporal properties are checked on the real model only: a seeded fault is a safety bug.
    const temporal = fault ? [] : selectTemporal(argv.property);
    const chosen = engines(argv.engine);
    const project = findProject(process.cwd(), argv.config);
    const { file: baselineFile, required } = baselineOf(project, argv.baseline);
    const baseline = readBaseline(baselineFile, required);
    const corpusDir = argv["corpus-dir"] ?? project.corpus;
    const limits = {
      maxStates: count(argv["max-states"], "max-states"),
      maxDepth: count(argv["max-depth"], "max-depth"),
      timeLimitMs: argv["time-limit"] === undefined ? undefined : count(argv["time-limit"], "time-limit")! * 1000,
    };
    const gate = argv.engine === undefined;
    const randomConfig = gate && argv.config === undefined ? (fault?.config ?? resolveConfig(GATE_RANDOM.config)) : named;
    const random = {
      seed: seedOf(argv.seed),
      runs: count(argv.runs, "runs") ?? (gate ? GATE_RANDOM.runs : undefined),
      maxSteps: count(argv["max-steps"], "max-steps"),
      shard: shardOf(argv.shard),
      replayPath: argv["replay-path"],
    };
    const smtTimeout = count(argv["smt-timeout"], "smt-timeout");
    const smt = {
      bmcDepth: count(argv.bmc, "bmc"),
      rlimit: argv["smt-rlimit"] === 0 ? undefined : count(argv["smt-rlimit"], "smt-rlimit"),
      timeoutMs: (smtTimeout ?? 600) * 1000,
      // The bounded model check is not bounded by rlimit: its queries keep their wall-clock limit.
      bmcTimeoutMs: (smtTimeout ?? 30) * 6000,
      emitSmtlib: argv["emit-smtlib"],
    };
    if (fault && !fault.smt && argv.engine !== undefined && chosen.includes("smt")) throw new InputError(`--fault: ${fault.name} has no SMT twin: ${fault.smtNa}`);
    // Every path this run writes, the corpus and the baseline are checked before any engine starts.
    checkOutputDir(argv.out ?? corpusDir, "--out");
    if (argv.junit !== undefined) checkOutputFile(argv.junit, "--junit");
    if (argv.sarif !== undefined) checkOutputFile(argv.sarif, "--sarif");
    if (argv.html !== undefined) checkOutputDir(argv.html, "--html");
    if (smt.emitSmtlib !== undefined) {
      if (!chosen.includes("smt")) throw new InputError("--emit-smtlib: writes the smt engine's proof obligations; add --engine smt");
      checkOutputDir(smt.emitSmtlib, "--emit-smtlib");
    }
    if (argv.itf || argv.html !== undefined) for (const c of new Set([named, randomConfig])) checkRenderable(c.config, c.name);
    const corpus = traceFiles(corpusDir); // before this run adds its own counterexamples
    if (argv.corpus) checkCorpus(corpus, baseline);
    // A fault's counterexamples are the fault's, not the model's: never into the corpus unasked.
    const out = argv.out ?? (fault ? mkdtempSync(join(tmpdir(), `pkvm-check-${fault.name}-`)) : corpusDir);
    const progress = argv.progress ?? (!argv.json || process.stderr.isTTY === true);

    const stop = new Stop();
    let signal: StopSignal | undefined;
    const release = onInterrupt((s) => {
      signal = s;
      stop.raise();
    });
    const reports: EngineReport[] = [];
    const notRun: string[] = [];
    const running = fault && !fault.smt ? chosen.filter((e) => e !== "smt") : chosen;
    const job = { named, properties: properties.map((p) => p.id), temporal: temporal.map((p) => p.id), fault: fault?.name };
    const common = { out, baseline, allowInternal: argv["allow-internal"] };
    // The proofs take one core for a minute or two: they start first, on a thread of their own.
    let proofs: Promise<EngineReport[]> | undefined;
    if (running.includes("smt")) {
      if (progress) process.stderr.write("smt: proving with z3 (on its own thread)...\n");
      const proved = gate && argv.property === undefined ? properties.filter((p) => GATE_SMT.includes(p.id)) : properties;
      proofs = runOnThread({ ...job, properties: proved.map((p) => p.id), engine: "smt", options: { ...common, ...smt, progress, progressForced: argv.progress === true } }, stop, limits.timeLimitMs);
    }
    const explore = { ...common, keepGoing: argv["keep-going"], progress, progressForced: argv.progress === true };
    const worlds = argv.config === undefined && !fault ? [named, resolveConfig(GATE_BFS_EXTRA)] : [named];
    for (const engine of running) {
      if (engine === "smt") {
        reports.push(...(await proofs!));
      } else if (stop.raised) {
        notRun.push(engine);
      } else if (engine === "bfs") {
        const workers = count(argv.workers, "workers") ?? 1;
        for (const world of worlds) {
          if (stop.raised) notRun.push(`bfs ${world.name}`);
          else reports.push(...(await runOnThread({ ...job, named: world, engine, options: { ...explore, ...limits, symmetry: argv.symmetry && !fault, workers } }, stop)));
        }
      } else {
        if (progress) process.stderr.write(`random: seed ${random.seed}${random.shard ? `, shard ${random.shard.index}/${random.shard.count}` : ""}\n`);
        reports.push(...(await runOnThread({ ...job, named: randomConfig, engine, options: { ...explore, timeLimitMs: limits.timeLimitMs, ...random } }, stop)));
      }
    }
    if (argv.corpus && stop.raised) notRun.push("corpus");
    else if (argv.corpus) reports.push(...(await runOnThread({ ...job, properties: [], engine: "corpus", options: { files: corpus, baseline } }, stop)));
    release();
    if (signal) {
      for (const r of reports) if (r.stop === "interrupted") r.stop = signal;
      reports.push(interruptedReport(signal, notRun));
    }

    // A report that cannot be written does not hide what the run found: it is said on stderr
    // and in the JSON, and the exit code stays 1 when something failed (3 when nothing else did).
    const writeErrors = reports.flatMap((r) => r.verdicts.flatMap((v) => (v.writeError ? [v.writeError] : [])));
    const attempt = (write: () => unknown) => {
      try {
        write();
      } catch (e) {
        if (!(e instanceof WriteError)) throw e;
        writeErrors.push(e.message);
      }
    };
    const failOn = { strict: argv.strict, allowUnproved: argv["allow-unproved"] };
    const bad = reports.some((r) => failed(r, failOn)) || (argv["require-complete"] && reports.some((r) => !r.complete));
    if (argv.junit) attempt(() => writeFileAtomic(argv.junit!, junitXml(reports, failOn)));
    const failures = reports.flatMap((r) => r.verdicts).filter((v) => v.status === "fail" && v.counterexample);
    for (const file of new Set(failures.map((v) => v.counterexample!))) {
      if (argv.itf) attempt(() => writeItfNextTo(file, fault?.variant));
      if (argv.html !== undefined) attempt(() => writeReportInto(argv.html!, file, fault?.variant));
    }
    const exitCode = () => (signal ? signalExitCode(signal) : bad ? EXIT.FAILED : writeErrors.length > 0 ? EXIT.INTERNAL : EXIT.OK);
    if (argv.sarif !== undefined) {
      const sarif = sarifLog(reports, { properties, strict: argv.strict, exitCode: exitCode(), root: project.root });
      attempt(() => writeFileAtomic(argv.sarif!, `${JSON.stringify(sarif, null, 2)}\n`));
    }
    for (const e of writeErrors) process.stderr.write(`pkvm-check: ${e}\n`);
    if (argv.json) {
      const extra = { ...(signal ? { interrupted: signal } : {}), ...(writeErrors.length > 0 ? { writeErrors } : {}) };
      process.stdout.write(`${JSON.stringify({ version: CHECK_JSON_VERSION, ok: exitCode() === EXIT.OK, ...extra, reports }, null, 2)}\n`);
    } else {
      const verdict = signal ? `check: INTERRUPTED by ${signal}, incomplete` : bad ? "check: FAILED" : writeErrors.length > 0 ? "check: FAILED to write its reports" : "check: ok";
      process.stdout.write(`${reports.map(formatCheck).join("\n")}\n${verdict}\n`);
    }
    process.exitCode = exitCode();
  },
};

/** The summary's mark of an interrupted run: a failing entry, and what was not run. */
function interruptedReport(signal: StopSignal, notRun: readonly string[]): EngineReport {
  const verdict = { property: "(run)", status: "fail" as const, message: `interrupted by ${signal}: the run is incomplete` };
  return { engine: "interrupted", config: signal, complete: false, stop: signal, stats: { notRun: notRun.join(", ") || "none" }, verdicts: [verdict], warnings: [] };
}
