// `replay`: runs a trace on the reference engine from its config's initial state, checks every
// property on the initial state and after every step, and compares each return with `expect`.
//
// A property is reported once, at its first violation: after that its checkState usually
// fails on every later state too, and the first one is the counterexample. A violation of the
// initial state is reported at step -1 ("before any step"), which keeps `step` an index into
// `steps` everywhere else.

import type { Step } from "../model/actions.js";
import { InputError } from "../model/config.js";
import type { Ret } from "../model/errno.js";
import { PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import type { Finding, Property, TemporalProperty } from "../properties/property.js";
import { PROPERTIES, propertyById, TEMPORAL_PROPERTIES, temporalById } from "../properties/registry.js";
import { Engine, type ModelVariant } from "./engine.js";
import { loopCloses, temporalViolations } from "./temporal-replay.js";
import { argsToJson, INITIAL_STEP, type Trace } from "./trace.js";

export interface ReplayOptions {
  /** The properties to check (see selectProperties); all of them when absent. */
  properties?: readonly Property[];
  /** The temporal properties to check (see selectTemporal); all of them when absent. */
  temporal?: readonly TemporalProperty[];
  /** A deviation from the real model (seeded faults). */
  variant?: ModelVariant;
}

export interface StepOutcome {
  index: number;
  step: Step;
  ret: Ret;
  expect?: Ret;
  /** True where `expect` is absent. */
  match: boolean;
}

export interface ViolationOutcome {
  property: string;
  step: number;
  finding: Finding;
  /** The state the finding was made in, and for a step check the state before the step. */
  state: Uint32Array;
  pre?: Uint32Array;
}

export interface ReplayResult {
  file: string;
  world: World;
  ok: boolean;
  steps: StepOutcome[];
  violations: ViolationOutcome[];
  /** A lasso's loop (trace `loop`), and whether it closes on this model. */
  loop?: number;
  loopCloses?: boolean;
}

/**
 * The state and step properties among the given ids (all when absent); an id that names no
 * property of either kind is an input error.
 */
export function selectProperties(ids?: readonly string[]): readonly Property[] {
  if (!ids) return PROPERTIES;
  return ids.filter((id) => !temporalById(id)).map(
    (id) => propertyById(id) ?? fail(`property "${id}": unknown (known: ${[...PROPERTIES, ...TEMPORAL_PROPERTIES].map((p) => p.id).join(", ")})`),
  );
}

/** The temporal properties among the given ids (all when absent). */
export function selectTemporal(ids?: readonly string[]): readonly TemporalProperty[] {
  if (!ids) return TEMPORAL_PROPERTIES;
  return ids.flatMap((id) => temporalById(id) ?? []);
}

function fail(message: string): never {
  throw new InputError(message);
}

export function replay(trace: Trace, opts: ReplayOptions = {}): ReplayResult {
  const properties = opts.properties ?? PROPERTIES;
  const world = new World(trace.config);
  const engine = new Engine(world, opts.variant);
  const violations: ViolationOutcome[] = [];
  const report = (p: Property, step: number, finding: Finding | null, state: Uint32Array, pre?: Uint32Array) => {
    if (finding && !violations.some((v) => v.property === p.id)) {
      violations.push({ property: p.id, step, finding, state: state.slice(), pre: pre?.slice() });
    }
  };

  // Two buffers stepped in place, whatever the trace's length; a violation keeps copies of its states.
  let state = engine.initial();
  const pre = new Uint32Array(state.length);
  const preK = new PkvmState(world, pre);
  const postK = new PkvmState(world, state);
  for (const p of properties) report(p, INITIAL_STEP, p.checkState?.(postK) ?? null, state);
  // A lasso's states are kept for its loop and fairness checks (lassos are short); any other trace keeps two.
  const kept: Uint32Array[] | undefined = trace.loop !== undefined ? [state.slice()] : undefined;

  const steps: StepOutcome[] = [];
  let ok = violations.length === 0;
  trace.steps.forEach(({ step, expect }, index) => {
    pre.set(state);
    const ret = engine.applyInPlace(state, step);
    for (const p of properties) {
      report(p, index, p.checkStep?.(preK, step, ret, postK) ?? null, state, pre);
      report(p, index, p.checkState?.(postK) ?? null, state);
    }
    const match = expect === undefined || expect === ret;
    ok &&= match;
    steps.push({ index, step, ret, expect, match });
    kept?.push(state.slice());
  });

  const states = kept ?? [state];
  violations.push(...temporalViolations(trace, engine, states, opts.temporal ?? TEMPORAL_PROPERTIES));
  const closes = loopCloses(trace, states);
  return {
    file: trace.file,
    world,
    ok: ok && violations.length === 0 && closes,
    steps,
    violations,
    ...(trace.loop !== undefined ? { loop: trace.loop, loopCloses: closes } : {}),
  };
}

/** One step's entry of `replay --json`; `expect` is null where the trace has none. */
function stepToJson(s: StepOutcome): Record<string, unknown> {
  return { index: s.index, action: s.step.action.name, args: argsToJson(s.step), ret: s.ret, expect: s.expect ?? null, match: s.match };
}

/** One trace's entry of `replay --json` (interface.md). */
export function replayToJson(r: ReplayResult): Record<string, unknown> {
  return {
    file: r.file,
    ok: r.ok,
    steps: r.steps.map(stepToJson),
    violations: r.violations.map(({ property, step, finding }) => ({ property, step, ...finding })),
    ...(r.loop !== undefined ? { loop: r.loop, loopCloses: r.loopCloses } : {}),
  };
}

/**
 * `replay --json`'s document, `{ "traces": [...] }`, a piece at a time: one line per step, so
 * that a million-step trace is never one string.
 */
export function replayJson(results: readonly ReplayResult[], emit: (text: string) => void): void {
  emit('{\n  "traces": [');
  results.forEach((r, t) => {
    emit(`${t === 0 ? "" : ","}\n    {\n      "file": ${JSON.stringify(r.file)},\n      "ok": ${r.ok},\n      "steps": [`);
    r.steps.forEach((s, i) => emit(`${i === 0 ? "" : ","}\n        ${JSON.stringify(stepToJson(s))}`));
    const violations = r.violations.map(({ property, step, finding }) => ({ property, step, ...finding }));
    const loop = r.loop !== undefined ? `,\n      "loop": ${r.loop},\n      "loopCloses": ${r.loopCloses}` : "";
    emit(`${r.steps.length ? "\n      " : ""}],\n      "violations": ${JSON.stringify(violations)}${loop}\n    }`);
  });
  emit(`${results.length ? "\n  " : ""}]\n}\n`);
}
