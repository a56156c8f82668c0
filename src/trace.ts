// Trace files (`pkvm-trace/1`, interface.md): read and validated into steps the engine runs,
// written back as JSON, and stored as counterexamples under names that never clobber a file.
// Every malformed trace is an InputError naming the file and the field.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { ACTION_BY_NAME, type ActionDef, type Step } from "../model/actions.js";
import { formatProt, makeArgs, parseProt, type ArgName, type Args } from "../model/args.js";
import { InputError, type WorldConfig } from "../model/config.js";
import { RETURNS, type Ret } from "../model/errno.js";
import { BUILTIN_NAMES, builtinConfig, readJson, resolveConfig } from "./configs.js";
import { makeDir, writeFileNew } from "./io/write-file.js";

export const TRACE_FORMAT = "pkvm-trace/1";

export interface TraceStep {
  step: Step;
  expect?: Ret;
}

/** The `step` of a violation of the initial state, before any step ran. */
export const INITIAL_STEP = -1;

/** What a counterexample violates, and at which index of `steps`. */
export interface Violation {
  property: string;
  step: number;
  message: string;
}

export interface Trace {
  file: string;
  config: WorldConfig;
  /** The built-in config's name, or the trace file when the config is inline. */
  configName: string;
  steps: TraceStep[];
  violation?: Violation;
  /**
   * A lasso (a leads-to counterexample): the steps from index `loop` on repeat forever; the
   * state after the last step is the state before step `loop`. `loop` = steps.length: the run
   * stays in the last state, making only calls that change nothing.
   */
  loop?: number;
  meta?: Record<string, unknown>;
}

type Fail = (field: string, what: string) => never;

const TOP_KEYS = ["format", "config", "steps", "violation", "loop", "meta"];
const STEP_KEYS = ["action", "args", "expect"];
const VIOLATION_KEYS = ["property", "step", "message"];

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Reads and validates a trace file. */
export function readTrace(file: string): Trace {
  return parseTrace(readJson(file), file, { consume: true });
}

/** Distinct steps whose parse is shared by equal steps (a long trace repeats a few steps). */
const SHARED_STEPS = 1 << 16;

/**
 * Validates a trace already parsed from JSON; `file` prefixes every error message. With
 * `consume`, each parsed step is dropped from `t` once validated, so that a long trace is not
 * held twice.
 */
export function parseTrace(t: unknown, file: string, opts: { consume?: boolean } = {}): Trace {
  const fail: Fail = (field, what) => {
    throw new InputError(`${file}: ${field}: ${what}`);
  };
  if (!isObject(t)) throw new InputError(`${file}: expected a JSON object`);
  for (const k of Object.keys(t)) if (!TOP_KEYS.includes(k)) fail(k, "unknown key");
  if (t.format !== TRACE_FORMAT) fail("format", `expected "${TRACE_FORMAT}"`);

  if (t.config === undefined) fail("config", "required");
  if (typeof t.config === "string" && !builtinConfig(t.config)) {
    fail("config", `unknown built-in config "${t.config}" (expected ${BUILTIN_NAMES} or an object)`);
  }
  const { config } = resolveConfig(t.config, `${file}: config`);

  if (!Array.isArray(t.steps)) fail("steps", "expected an array");
  const raw: unknown[] = t.steps;
  const shared = new Map<string, TraceStep>();
  const steps = raw.map((s, i) => {
    if (opts.consume) raw[i] = null;
    // The step's exact text as the key: equal text, equal step.
    const key = JSON.stringify(s);
    const known = shared.get(key);
    if (known) return known;
    const step = parseTraceStep(s, `steps[${i}]`, config, fail);
    if (shared.size < SHARED_STEPS) shared.set(key, step);
    return step;
  });

  const trace: Trace = { file, config, configName: typeof t.config === "string" ? t.config : file, steps };
  if (t.violation !== undefined) trace.violation = parseViolation(t.violation, steps.length, fail);
  if (t.loop !== undefined) {
    const ok = Number.isInteger(t.loop) && (t.loop as number) >= 0 && (t.loop as number) <= steps.length;
    trace.loop = ok ? (t.loop as number) : fail("loop", `expected a step index from 0 to ${steps.length} (the number of steps)`);
  }
  if (t.meta !== undefined) {
    if (!isObject(t.meta)) fail("meta", "expected an object");
    trace.meta = t.meta;
  }
  return trace;
}

function parseTraceStep(s: unknown, where: string, config: WorldConfig, fail: Fail): TraceStep {
  if (!isObject(s)) return fail(where, "expected an object");
  for (const k of Object.keys(s)) if (!STEP_KEYS.includes(k)) fail(`${where}.${k}`, "unknown key");
  const action =
    (typeof s.action === "string" && ACTION_BY_NAME.get(s.action)) ||
    fail(`${where}.action`, `unknown action ${JSON.stringify(s.action)}`);
  if (action.memcacheOnly && !config.memcache) {
    fail(`${where}.action`, `${action.name} needs "memcache": true in the config`);
  }
  const step: TraceStep = { step: { action, args: parseArgs(s.args, `${where}.args`, action, config, fail) } };
  if (s.expect !== undefined) {
    step.expect = RETURNS.find((r) => r === s.expect) ?? fail(`${where}.expect`, `${JSON.stringify(s.expect)} is not a return string`);
  }
  return step;
}

/** Exactly the action's arguments, each of its type; vm and vcpu must name slots of the config. */
function parseArgs(a: unknown, where: string, action: ActionDef, config: WorldConfig, fail: Fail): Args {
  if (!isObject(a)) return fail(where, "expected an object");
  const takes = `${action.name} takes ${action.args.join(", ") || "none"}`;
  for (const k of Object.keys(a)) {
    if (!action.args.some((n) => n === k)) fail(`${where}.${k}`, `not an argument (${takes})`);
  }
  const args = makeArgs();
  for (const n of action.args) {
    const v = a[n];
    const field = `${where}.${n}`;
    if (v === undefined) fail(field, `missing (${takes})`);
    if (n === "prot") {
      const prot = typeof v === "string" ? parseProt(v) : null;
      args.prot = prot ?? fail(field, `expected a string of the letters R, W, X in that order, got ${JSON.stringify(v)}`);
    } else if (n === "mkold") {
      args.mkold = typeof v === "boolean" ? v : fail(field, "expected a boolean");
    } else {
      args[n] = isUint(v) ? v : fail(field, "expected a non-negative integer up to 2^53 - 1");
    }
  }
  const vm = config.vms[args.vm];
  if (action.args.includes("vm") && !vm) {
    fail(`${where}.vm`, `${args.vm} is not a VM slot of the config (it has ${config.vms.length})`);
  }
  if (action.args.includes("vcpu") && args.vcpu >= vm.vcpus) {
    fail(`${where}.vcpu`, `${args.vcpu} is not a vCPU slot of VM ${args.vm} (it has ${vm.vcpus})`);
  }
  return args;
}

/** A JSON integer in 0 .. 2^53 - 1: the numbers of interface.md, never wrapped. */
function isUint(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function parseViolation(v: unknown, nSteps: number, fail: Fail): Violation {
  if (!isObject(v)) return fail("violation", "expected an object");
  for (const k of Object.keys(v)) if (!VIOLATION_KEYS.includes(k)) fail(`violation.${k}`, "unknown key");
  const step = v.step;
  return {
    property: typeof v.property === "string" ? v.property : fail("violation.property", "expected a property id"),
    step: Number.isInteger(step) && (step as number) >= INITIAL_STEP && (step as number) < nSteps
      ? (step as number)
      : fail("violation.step", `expected a step index from -1 (the initial state) to ${nSteps - 1}`),
    message: typeof v.message === "string" ? v.message : fail("violation.message", "expected a string"),
  };
}

// ---- writing -------------------------------------------------------------------------------

/** A step's arguments as a trace spells them: only the action's own, prot as letters. */
export function argsToJson({ action, args }: Step): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const n of action.args as readonly ArgName[]) out[n] = n === "prot" ? formatProt(args.prot) : args[n];
  return out;
}

function stepToJson({ step, expect }: TraceStep): Record<string, unknown> {
  const out: Record<string, unknown> = { action: step.action.name, args: argsToJson(step) };
  if (expect !== undefined) out.expect = expect;
  return out;
}

/**
 * The trace as a JSON value. The config is always written out in full, so that a saved trace
 * keeps its meaning when a built-in config is retuned.
 */
export function traceToJson(t: Trace): Record<string, unknown> {
  const out: Record<string, unknown> = { format: TRACE_FORMAT, config: t.config, steps: t.steps.map(stepToJson) };
  if (t.violation) out.violation = t.violation;
  if (t.loop !== undefined) out.loop = t.loop;
  if (t.meta) out.meta = t.meta;
  return out;
}

/** The trace file's text: one step per line, so that diffs and reviews read step by step. */
export function formatTrace(t: Trace): string {
  const json = traceToJson(t);
  const lines = Object.entries(json).map(([k, v]) =>
    k === "steps" && t.steps.length > 0
      ? `  "steps": [\n${(v as unknown[]).map((s) => `    ${JSON.stringify(s)}`).join(",\n")}\n  ]`
      : `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
  );
  return `{\n${lines.join(",\n")}\n}\n`;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(",")}]`;
  if (isObject(x)) {
    const keys = Object.keys(x).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(x[k])}`).join(",")}}`;
  }
  return JSON.stringify(x);
}

/** Names a run: the config and the actions with their arguments, not what was expected of them. */
export function traceId(t: Trace): string {
  const run = {
    config: t.config,
    steps: t.steps.map(({ step }) => ({ action: step.action.name, args: argsToJson(step) })),
    ...(t.loop !== undefined ? { loop: t.loop } : {}),
  };
  return createHash("sha256").update(canonicalJson(run)).digest("hex").slice(0, 12);
}

/**
 * Writes a counterexample as `<dir>/<property>-<traceId>.json` and returns its path. The same
 * trace written twice lands in the same file; a different file under that name is never
 * replaced: the name gets a numeric suffix instead.
 */
export function writeCounterexample(dir: string, trace: Trace & { violation: Violation }): string {
  makeDir(dir);
  const base = `${trace.violation.property}-${traceId(trace)}`;
  return writeFileNew(candidateNames(dir, base), formatTrace(trace));
}

function* candidateNames(dir: string, base: string): Generator<string> {
  for (let n = 1; ; n++) yield join(dir, n === 1 ? `${base}.json` : `${base}-${n}.json`);
}
