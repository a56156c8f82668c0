// Replaying a trace against the temporal properties: what a counterexample of each kind claims,
// checked on the reference engine, so that a saved counterexample stays evidence.
//
// - A lasso (a trace with `loop`) violates p ~> q when the loop closes, the cycle is weakly fair
//   to the host's calls (each is made on the cycle or refused in one of its states) and some
//   state where p holds is followed by no state where q holds, the cycle included. Every
//   leads-to property is checked on every lasso: that is cheap.
// - A path to a doomed state violates AG EF p when no call sequence from its last state reaches
//   p: an exhaustive search from that state. It is run only for the AG EF property the trace's
//   `violation` names, as it costs a search.

import type { Step } from "../model/actions.js";
import { PkvmState } from "../model/state.js";
import type { World } from "../model/world.js";
import type { AlwaysEventuallyPossible, LeadsTo, Property, TemporalProperty } from "../properties/property.js";
import { finding } from "../properties/property.js";
import { alphabet, type AlphabetStep } from "./alphabet.js";
import type { Engine } from "./engine.js";
import { bfs } from "./explore/bfs.js";
import { doomedMessage, fairSteps } from "./explore/temporal-properties.js";
import { argsToJson, INITIAL_STEP, type Trace } from "./trace.js";
import type { ViolationOutcome } from "./replay.js";

const sameWords = (a: Uint32Array, b: Uint32Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const stepKey = (s: Step) => `${s.action.name}${JSON.stringify(argsToJson(s))}`;

/** The alphabet steps that change state s. */
function enabledAt(engine: Engine, steps: readonly AlphabetStep[], s: Uint32Array): AlphabetStep[] {
  const k = new PkvmState(engine.world, s);
  return steps.filter((a) => (a.enabled === undefined || a.enabled(k)) && !sameWords(engine.step(s, a).state, s));
}

/** Whether the lasso's cycle is weakly fair to the host's calls. */
function isFairCycle(engine: Engine, trace: Trace, states: readonly Uint32Array[], loop: number): boolean {
  const steps = alphabet(engine.world);
  const fair = fairSteps(steps);
  const n = trace.steps.length;
  const cycleStates = loop < n ? states.slice(loop, n) : [states[n]];
  const taken = new Set<string>();
  for (let i = loop; i < n; i++) if (!sameWords(states[i], states[i + 1])) taken.add(stepKey(trace.steps[i].step));
  return steps.every((a, i) => !fair[i] || taken.has(stepKey(a)) || cycleStates.some((s) => sameWords(engine.step(s, a).state, s)));
}

function leadsToViolation(p: LeadsTo, world: World, states: readonly Uint32Array[], loop: number): ViolationOutcome | undefined {
  const n = states.length - 1;
  const at = (j: number) => new PkvmState(world, states[j]);
  for (let i = 0; i < p.instances(world); i++) {
    let lastQ = -1;
    for (let j = 0; j <= n; j++) if (p.q(at(j), i)) lastQ = j;
    if (lastQ >= loop) continue; // q holds on the cycle: it holds again and again
    let t = lastQ + 1;
    while (t <= n && !p.p(at(t), i)) t++;
    if (t > n) continue;
    const cycle = loop < n ? `the cycle of steps ${loop}..${n - 1}, fair to the host's calls, repeats forever` : "the run then stays in its last state, every host call refused";
    return {
      property: p.id,
      step: t === 0 ? INITIAL_STEP : t - 1,
      finding: finding(`${p.describe(i)}: it holds from ${t === 0 ? "the initial state" : `step ${t - 1}`} on and ${cycle}`),
      state: states[t],
    };
  }
  return undefined;
}

function doomedViolation(p: AlwaysEventuallyPossible, engine: Engine, trace: Trace, last: Uint32Array): ViolationOutcome | undefined {
  const k = new PkvmState(engine.world, last);
  if (p.goal(k)) return undefined;
  const unmet = p.unmet(k);
  const steps = alphabet(engine.world, { allowInternal: trace.meta?.allowInternal === true });
  // The search stops at the first state where the goal holds: reaching it is the "violation".
  const reached: Property = { id: p.id, description: p.description, checkState: (s) => (p.goal(s) ? finding("goal reached") : null) };
  const r = bfs(engine, steps, { properties: [reached], from: last });
  if (r.stop !== "complete") return undefined;
  const step = trace.steps.length - 1;
  return { property: p.id, step, finding: { ...unmet, message: doomedMessage(unmet, enabledAt(engine, steps, last)) }, state: last };
}

/** The temporal violations a replayed trace shows; `states[i]` is the state before step i. */
export function temporalViolations(
  trace: Trace,
  engine: Engine,
  states: readonly Uint32Array[],
  properties: readonly TemporalProperty[],
): ViolationOutcome[] {
  const out: ViolationOutcome[] = [];
  const loop = trace.loop;
  const closes = loop !== undefined && sameWords(states[loop], states[states.length - 1]);
  const fair = closes && isFairCycle(engine, trace, states, loop);
  for (const p of properties) {
    const v = p.kind === "leads-to"
      ? fair ? leadsToViolation(p, engine.world, states, loop!) : undefined
      : trace.violation?.property === p.id ? doomedViolation(p, engine, trace, states[states.length - 1]) : undefined;
    if (v) out.push(v);
  }
  return out;
}

/** Whether a lasso's loop closes: the state after its last step is the state before step `loop`. */
export function loopCloses(trace: Trace, states: readonly Uint32Array[]): boolean {
  return trace.loop === undefined || sameWords(states[trace.loop], states[states.length - 1]);
}
