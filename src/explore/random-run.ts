// The random engine's runs: steps on one state buffer from the initial state, every property
// checked after every step, and the counts of the coverage report. State properties are checked
// once per distinct state: a state enters the visited set only after it passed them, so a state
// seen before needs no check, and one that failed is checked again whenever it comes back.

import { ACTIONS } from "../../model/actions.js";
import { RETURNS, type Ret } from "../../model/errno.js";
import { GuestEntry, PageState, PkvmState, VmLife } from "../../model/state.js";
import type { Finding, Property } from "../../properties/property.js";
import type { AlphabetStep } from "../alphabet.js";
import type { Engine } from "../engine.js";
import { FP, fingerprint } from "../hash.js";
import type { Chooser, Decision } from "./random-choice.js";
import { VisitedSet } from "./visited.js";

/** What fast-check generates for one run. */
export interface RunInput {
  /** Chooses the run's subset of actions (swarm testing); 0 allows them all. */
  swarm: number;
  steps: readonly Decision[];
}

export interface Violated {
  property: Property;
  finding: Finding;
  /** The step after which it shows, counting the steps taken; -1 for the initial state. */
  at: number;
}

/** The steps a run took and what they returned. */
export interface Trace {
  steps: AlphabetStep[];
  returns: Ret[];
}

/** Which page states and VM lifecycle states were ever seen. */
export interface Reached {
  host: string[];
  hyp: string[];
  guest: string[];
  vm: string[];
}

const ACTION_INDEX = new Map(ACTIONS.map((a, i) => [a, i]));
const RET_INDEX = new Map<Ret, number>(RETURNS.map((r, i) => [r, i]));
// The reached masks have one bit per name, indexed by the model's enum values.
const PAGE_STATES = [0, 1, 2, 3].map((st) => PageState[st]);
/** A guest leaf: absent, poisoned, or mapped in a page state (bit 1 + state). */
const GUEST_STATES = ["NOPAGE", "POISON", ...PAGE_STATES.slice(1)];
/** VmLife, and LOADED: a VM with a vCPU on the CPU. */
const VM_LOADED = 3;
const VM_STATES = [0, 1, 2].map((l) => VmLife[l]).concat("LOADED");

/**
 * Distinct states remembered at most (about 200 MB of fingerprints and links). A long run goes
 * on past it: a state not remembered is checked again each time it comes back.
 */
export const VISITED_CAP = 1 << 23;

/** Steps between two readings of the clock. */
const CLOCK_EVERY = 16;

function equalWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function names(mask: number, all: readonly string[]): string[] {
  return all.filter((_, i) => mask & (1 << i));
}

export class Explorer {
  readonly visited = new VisitedSet();
  readonly coverage = new Float64Array(ACTIONS.length * RETURNS.length);
  stepsRun = 0;
  maxDepth = 0;
  private readonly pre: PkvmState;
  private readonly post: PkvmState;
  private readonly initial: Uint32Array;
  private stateProps: Property[] = [];
  private stepProps: Property[][] = [];
  private reached = { host: 0, hyp: 0, guest: 0, vm: 0 };

  constructor(
    private readonly engine: Engine,
    private readonly chooser: Chooser,
    private readonly onNewState?: (s: Uint32Array) => void,
  ) {
    this.pre = new PkvmState(engine.world);
    this.post = new PkvmState(engine.world);
    this.initial = engine.initial();
  }

  /** The properties checked from now on; checkStep only on the actions a property names. */
  setProperties(props: readonly Property[]): void {
    this.stateProps = props.filter((p) => p.checkState);
    this.stepProps = ACTIONS.map((a) => props.filter((p) => p.checkStep && (!p.actions || p.actions.includes(a.name))));
  }

  /** Checks the initial state (once: every run starts there); the first violation, or null. */
  checkInitial(): Violated | null {
    this.post.s.set(this.initial);
    return this.checkNewState(-1);
  }

  /**
   * Runs the decisions from the initial state; the first violation, or null. A run still going at
   * `deadline` (ms since the epoch) ends there: in a big world one run can take longer than a limit.
   */
  run(input: RunInput, trace?: Trace, deadline = Infinity): Violated | null {
    const swarm = this.chooser.swarm(input.swarm);
    this.post.s.set(this.initial);
    let depth = 0;
    let v: Violated | null = null;
    for (let i = 0; i < input.steps.length; i++) {
      if ((i & (CLOCK_EVERY - 1)) === CLOCK_EVERY - 1 && Date.now() > deadline) break;
      const step = this.chooser.step(this.post, input.steps[i], swarm);
      if (step !== null && (v = this.take(step, depth++, trace)) !== null) break;
    }
    this.maxDepth = Math.max(this.maxDepth, depth);
    return v;
  }

  /**
   * Runs concrete steps from the initial state: the first violation, or null when there is none
   * or a step's guard refuses it (a candidate trace while minimising).
   */
  replay(steps: readonly AlphabetStep[], trace?: Trace): Violated | null {
    this.post.s.set(this.initial);
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (step.enabled && !step.enabled(this.post)) return null;
      const v = this.take(step, i, trace);
      if (v !== null) return v;
    }
    return null;
  }

  /** Which page and VM states were seen, by name. */
  reachedStates(): Reached {
    const r = this.reached;
    return { host: names(r.host, PAGE_STATES), hyp: names(r.hyp, PAGE_STATES), guest: names(r.guest, GUEST_STATES), vm: names(r.vm, VM_STATES) };
  }

  /** Takes step number `at` of a run: the violation it shows, or null. */
  private take(step: AlphabetStep, at: number, trace?: Trace): Violated | null {
    this.pre.s.set(this.post.s);
    const ret = this.engine.applyInPlace(this.post.s, step);
    const action = ACTION_INDEX.get(step.action)!;
    this.stepsRun++;
    this.coverage[action * RETURNS.length + RET_INDEX.get(ret)!]++;
    trace?.steps.push(step);
    trace?.returns.push(ret);
    for (const p of this.stepProps[action]) {
      const finding = p.checkStep!(this.pre, step, ret, this.post);
      if (finding) return { property: p, finding, at };
    }
    return equalWords(this.pre.s, this.post.s) ? null : this.checkNewState(at);
  }

  private checkNewState(at: number): Violated | null {
    fingerprint(this.post.s);
    const hi = FP[0];
    const lo = FP[1];
    if (this.visited.has(hi, lo)) return null;
    for (const p of this.stateProps) {
      const finding = p.checkState!(this.post);
      if (finding) return { property: p, finding, at };
    }
    if (this.visited.size >= VISITED_CAP) return null;
    this.visited.add(hi, lo, 0, 0);
    this.reach(this.post);
    this.onNewState?.(this.post.s);
    return null;
  }

  private reach(k: PkvmState): void {
    const r = this.reached;
    for (let p = 0; p < k.w.pages; p++) {
      if (!k.w.isMemory(p)) continue;
      r.host |= 1 << k.hostState(p);
      r.hyp |= 1 << k.hypState(p);
    }
    k.w.config.vms.forEach((v, vm) => {
      r.vm |= 1 << k.vmLife(vm);
      for (let g = 0; g < v.gfns; g++) {
        const e = k.guestEntry(vm, g);
        r.guest |= 1 << (e === GuestEntry.MAPPED ? 1 + k.guestState(vm, g) : e === GuestEntry.POISON ? 1 : 0);
      }
    });
    if (k.loadedVm() >= 0) r.vm |= 1 << VM_LOADED;
  }
}
