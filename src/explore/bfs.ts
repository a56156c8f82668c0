// Breadth-first exhaustive search: every state the adversary's alphabet reaches from the
// config's initial state, once. State properties are checked on every new state, step
// properties on every transition (into new states and states already seen). Breadth-first
// order and parent links make the first counterexample of each property a shortest one.
// Deterministic: the alphabet, the properties and the queue have a fixed order.

import { ACTIONS } from "../../model/actions.js";
import { RETURNS, type Ret } from "../../model/errno.js";
import { PkvmState } from "../../model/state.js";
import type { Finding, Property } from "../../properties/property.js";
import type { AlphabetStep } from "../alphabet.js";
import type { Engine } from "../engine.js";
import { FP, fingerprint } from "../hash.js";
import type { EdgeSink } from "./graph.js";
import { concretePath, type Symmetry } from "./symmetry.js";
import { VisitedSet } from "./visited.js";

export interface BfsOptions {
  properties: readonly Property[];
  maxStates?: number;
  maxDepth?: number;
  timeLimitMs?: number;
  /** Collect the first counterexample of every violated property instead of stopping. */
  keepGoing?: boolean;
  /**
   * Classifies a violation by its property and the step that led to it (none for the initial
   * state): a known finding's id, or undefined for a new violation. Known findings are recorded
   * once each and never stop the search, so that a new violation of the same property is found.
   */
  known?: (property: string, step: AlphabetStep | undefined) => string | undefined;
  onProgress?: (p: BfsProgress) => void;
  /**
   * Told every new state (with its index) and every state-changing transition as (from, to,
   * alphabet index), for the temporal properties' state graph (src/explore/graph.ts). Refused
   * calls and no-ops are self-loops and are not reported.
   */
  graph?: EdgeSink;
  /** Search from this state instead of the config's initial one (replaying an AG EF claim). */
  from?: Uint32Array;
  /** Polled with the clock, every few transitions: true ends the search ("interrupted"), e.g. on SIGINT. */
  stopped?: () => boolean;
  /**
   * Store each state as its orbit's canonical form under this group (src/explore/symmetry.ts);
   * counterexamples are mapped back to concrete traces.
   */
  symmetry?: Symmetry;
}

export interface BfsProgress {
  states: number;
  transitions: number;
  queue: number;
  depth: number;
  elapsedMs: number;
}

export interface BfsViolation {
  property: string;
  /** The known finding this is, if it is one. */
  known?: string;
  finding: Finding;
  /** Alphabet indices from the initial state; the violation shows after the last step. */
  path: number[];
}

export type StopReason = "complete" | "violation" | "max-states" | "max-depth" | "time-limit" | "interrupted";

export interface BfsResult {
  stop: StopReason;
  states: number;
  /** The states the search stands for: the sum of the orbit sizes (= states without symmetry). */
  unreducedStates: number;
  transitions: number;
  /** Deepest level whose states were all expanded, or reached when cut short. */
  depth: number;
  elapsedMs: number;
  bytesPerState: { visited: number; links: number };
  /** coverage[actionIndex in ACTIONS][returnIndex in RETURNS] = count of transitions. */
  coverage: number[][];
  violations: BfsViolation[];
  /** The fingerprints of every state seen, for agreement tests between engines. */
  visited: VisitedSet;
}

const RET_INDEX = new Map<Ret, number>(RETURNS.map((r, i) => [r, i]));
const ACTION_INDEX = new Map(ACTIONS.map((a, i) => [a, i]));
const PROGRESS_EVERY = 1 << 14;
/** The clock is read every this many transitions: one state's expansion may take minutes in a big world. */
const CLOCK_EVERY = 1 << 10;

/** A growable queue of encoded states: each entry is the state's words then its index. */
class StateQueue {
  private buf: Uint32Array;
  length = 0;
  constructor(private readonly words: number) {
    // Room for 1024 states, or for one megaword's worth of big ones.
    this.buf = new Uint32Array((words + 1) * Math.max(1, Math.min(1024, Math.floor(2 ** 20 / (words + 1)))));
  }
  push(s: Uint32Array, index: number): void {
    const need = (this.length + 1) * (this.words + 1);
    if (need > this.buf.length) {
      const b = new Uint32Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    const off = this.length * (this.words + 1);
    this.buf.set(s, off);
    this.buf[off + this.words] = index;
    this.length++;
  }
  /** Copies entry i's words into `into` and returns its index. */
  read(i: number, into: Uint32Array): number {
    const off = i * (this.words + 1);
    into.set(this.buf.subarray(off, off + this.words));
    return this.buf[off + this.words];
  }
  clear(): void {
    this.length = 0;
  }
}

function equalWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The step properties that concern each alphabet step, without the ones already violated. */
function stepChecks(alphabet: readonly AlphabetStep[], props: readonly Property[], violated: Set<string>): Property[][] {
  const live = props.filter((p) => p.checkStep && !violated.has(p.id));
  return alphabet.map((s) => live.filter((p) => !p.actions || p.actions.includes(s.action.name)));
}

export function bfs(engine: Engine, alphabet: readonly AlphabetStep[], opts: BfsOptions): BfsResult {
  const t0 = Date.now();
  const words = engine.world.words;
  const k = engine.k;
  const run = alphabet.map((s) => engine.transitionOf(s));
  const covRow = alphabet.map((s) => ACTION_INDEX.get(s.action)! * RETURNS.length);
  const coverage = new Float64Array(ACTIONS.length * RETURNS.length);
  const violations: BfsViolation[] = [];
  const violated = new Set<string>();
  let stateProps = opts.properties.filter((p) => p.checkState);
  let stepProps = stepChecks(alphabet, opts.properties, violated);
  const graph = opts.graph;
  const visited = new VisitedSet(undefined, graph !== undefined);
  const pre = new PkvmState(engine.world, new Uint32Array(words));
  const post = new PkvmState(engine.world, new Uint32Array(words));
  let transitions = 0;
  let depth = 0;
  let stop: StopReason = "complete";

  const knownSeen = new Set<string>();
  const sym = opts.symmetry?.trivial ? undefined : opts.symmetry;
  // A path over canonical states becomes a concrete trace, with the concrete state's finding.
  const concrete = (p: Property, f: Finding, path: number[]): { finding: Finding; path: number[] } =>
    sym ? concretePath(engine, alphabet, sym, path, p) : { finding: f, path };
  const report = (p: Property, f: Finding, via: number, path: () => number[]): void => {
    const known = opts.known?.(p.id, via < 0 ? undefined : alphabet[via]);
    if (known !== undefined) {
      if (!knownSeen.has(known)) violations.push({ property: p.id, known, ...concrete(p, f, path()) });
      knownSeen.add(known);
      return;
    }
    violated.add(p.id);
    violations.push({ property: p.id, ...concrete(p, f, path()) });
    if (!opts.keepGoing) stop = "violation";
    stateProps = stateProps.filter((q) => !violated.has(q.id));
    stepProps = stepChecks(alphabet, opts.properties, violated);
  };
  const checkState = (s: PkvmState, index: number, via: number): void => {
    for (const p of stateProps) {
      const f = p.checkState!(s);
      if (f) report(p, f, via, () => visited.pathTo(index));
    }
    graph?.state(index, s);
  };

  const canon = new Uint32Array(words);
  const scratch = new Uint32Array(words);
  const init = opts.from?.slice() ?? engine.initial();
  let unreduced = sym ? sym.canonicalize(init, scratch) : 1;
  fingerprint(init);
  visited.add(FP[0], FP[1], 0, 0);
  post.s.set(init);
  checkState(post, 0, -1);
  let level = new StateQueue(words);
  let next = new StateQueue(words);
  level.push(init, 0);
  k.s = post.s;

  outer: while (level.length > 0 && stop === "complete") {
    if (opts.maxDepth !== undefined && depth >= opts.maxDepth) {
      stop = "max-depth";
      break;
    }
    for (let q = 0; q < level.length; q++) {
      const from = level.read(q, pre.s);
      post.s.set(pre.s);
      for (let a = 0; a < alphabet.length; a++) {
        const step = alphabet[a];
        if (step.enabled !== undefined && !step.enabled(pre)) continue;
        const ret = run[a](k, step.args);
        if ((++transitions & (CLOCK_EVERY - 1)) === 0) {
          if (opts.stopped?.()) stop = "interrupted";
          else if (opts.timeLimitMs !== undefined && Date.now() - t0 > opts.timeLimitMs) stop = "time-limit";
          if (stop !== "complete") break outer;
        }
        coverage[covRow[a] + RET_INDEX.get(ret)!]++;
        const checks = stepProps[a];
        for (let c = 0; c < checks.length; c++) {
          const f = checks[c].checkStep!(pre, step, ret, post);
          if (f) report(checks[c], f, a, () => [...visited.pathTo(from), a]);
        }
        if (stop !== "complete") break outer;
        if (equalWords(pre.s, post.s)) continue; // a failed call or a no-op: nothing to copy back
        let orbit = 1;
        if (sym) {
          canon.set(post.s);
          orbit = sym.canonicalize(canon, scratch);
          fingerprint(canon);
        } else fingerprint(post.s);
        if (visited.add(FP[0], FP[1], from, a)) {
          const index = visited.size - 1;
          graph?.edge(from, index, a);
          unreduced += orbit;
          checkState(post, index, a);
          next.push(sym ? canon : post.s, index);
          if (stop !== "complete") break outer;
          if (opts.maxStates !== undefined && visited.size >= opts.maxStates) {
            stop = "max-states";
            break outer;
          }
          if (opts.onProgress && visited.size % PROGRESS_EVERY === 0) {
            opts.onProgress({ states: visited.size, transitions, queue: level.length - q + next.length, depth, elapsedMs: Date.now() - t0 });
          }
        } else {
          graph?.edge(from, visited.seen, a);
        }
        post.s.set(pre.s);
      }
      if (opts.timeLimitMs !== undefined && (q & 255) === 0 && Date.now() - t0 > opts.timeLimitMs) {
        stop = "time-limit";
        break outer;
      }
    }
    [level, next] = [next, level];
    next.clear();
    if (level.length > 0) depth++;
  }

  const bytes = visited.bytes();
  return {
    stop,
    states: visited.size,
    unreducedStates: unreduced,
    transitions,
    depth,
    elapsedMs: Date.now() - t0,
    bytesPerState: { visited: bytes.table / visited.size, links: bytes.links / visited.size },
    coverage: ACTIONS.map((_, i) => Array.from(coverage.subarray(i * RETURNS.length, (i + 1) * RETURNS.length))),
    violations,
    visited,
  };
}
