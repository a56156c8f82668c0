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
import { withStepChange } from "../../properties/lib/pages.js";
import { AdditiveFingerprint, FP } from "../hash.js";
import { attachPagePools, PagePools } from "./random-pools.js";
import { StepDelta } from "./step-delta.js";
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

/** Words a step may write and still be read off the log (a block of 512 pages writes more: then the states are compared). */
const WRITE_LOG = 1 << 12;

/** Steps between two readings of the clock. */
const CLOCK_EVERY = 16;

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
  /**
   * What each step changed, and the post state's fingerprint kept up to date from it: a step's
   * checks cost what it changed, whatever the size of the world (every state a run reaches
   * passed every check, so only the pages a step could affect need looking at again).
   */
  private readonly delta: StepDelta;
  private readonly fp = new AdditiveFingerprint();
  /** The chooser's page pools of the post state, kept up to date from the pages each step changed. */
  private readonly pools: PagePools;
  private readonly initialPools: PagePools;
  private readonly writeLog = new Int32Array(WRITE_LOG);
  private readonly initialFp = new AdditiveFingerprint();

  constructor(
    private readonly engine: Engine,
    private readonly chooser: Chooser,
    private readonly onNewState?: (s: Uint32Array) => void,
  ) {
    this.pre = new PkvmState(engine.world);
    this.post = new PkvmState(engine.world);
    this.initial = engine.initial();
    this.delta = new StepDelta(engine.world);
    this.pools = new PagePools(engine.world);
    this.initialPools = new PagePools(engine.world);
    this.initialPools.build(new PkvmState(engine.world, this.initial));
    attachPagePools(this.post, this.pools);

    this.initialFp.reset(this.initial);
  }

  /** Back to the initial state, at the start of a run. */
  private restart(): void {
    this.post.s.set(this.initial);
    this.pre.s.set(this.initial);
    this.pools.copyFrom(this.initialPools);
    this.fp.a = this.initialFp.a;
    this.fp.b = this.initialFp.b;
  }

  /** The properties checked from now on; checkStep only on the actions a property names. */
  setProperties(props: readonly Property[]): void {
    this.stateProps = props.filter((p) => p.checkState);
    this.stepProps = ACTIONS.map((a) => props.filter((p) => p.checkStep && (!p.actions || p.actions.includes(a.name))));
  }

  /** Checks the initial state (once: every run starts there); the first violation, or null. */
  checkInitial(): Violated | null {
    this.restart();
    return this.checkNewState(-1);
  }

  /**
   * Runs the decisions from the initial state; the first violation, or null. A run still going at
   * `deadline` (ms since the epoch) ends there: in a big world one run can take longer than a limit.
   */
  run(input: RunInput, trace?: Trace, deadline = Infinity): Violated | null {
    const swarm = this.chooser.swarm(input.swarm);
    this.restart();
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
    this.restart();
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
    // pre equals post here: restart sets both, and every step copies back the words it changed.
    PkvmState.writeLog = this.writeLog;
    PkvmState.logged = 0;
    let ret: Ret;
    try {
      ret = this.engine.applyInPlace(this.post.s, step);
    } finally {
      PkvmState.writeLog = null;
    }
    const action = ACTION_INDEX.get(step.action)!;
    this.stepsRun++;
    this.coverage[action * RETURNS.length + RET_INDEX.get(ret)!]++;
    trace?.steps.push(step);
    trace?.returns.push(ret);
    const d = this.delta;
    const changed = d.compute(this.pre.s, this.post.s, this.writeLog, PkvmState.logged);
    if (changed) {
      this.fp.update(this.pre.s, this.post.s, d.words, d.wordCount);
      this.pools.update(this.post, d.pagesChanged());
    }
    const v = withStepChange(d.change(), () => {
      for (const p of this.stepProps[action]) {
        const finding = p.checkStep!(this.pre, step, ret, this.post);
        if (finding) return { property: p, finding, at };
      }
      return changed ? this.checkNewState(at, d.pagesChanged()) : null;
    });
    for (let j = 0; j < d.wordCount; j++) this.pre.s[d.words[j]] = this.post.s[d.words[j]];
    return v;
  }

  /** Checks the post state unless seen before; `pages`: the pages the step could change, else every page. */
  private checkNewState(at: number, pages?: Int32Array): Violated | null {
    this.fp.get();
    const hi = FP[0];
    const lo = FP[1];
    if (this.visited.has(hi, lo)) return null;
    for (const p of this.stateProps) {
      const finding = p.checkState!(this.post);
      if (finding) return { property: p, finding, at };
    }
    if (this.visited.size >= VISITED_CAP) return null;
    this.visited.add(hi, lo, 0, 0);
    this.reach(this.post, pages);
    this.onNewState?.(this.post.s);
    return null;
  }

  /** Records the page and VM states of k: of every page, or of the pages a step changed. */
  private reach(k: PkvmState, changed?: Int32Array): void {
    const r = this.reached;
    const n = changed ? changed.length : k.w.pages;
    for (let i = 0; i < n; i++) {
      const p = changed ? changed[i] : i;
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
