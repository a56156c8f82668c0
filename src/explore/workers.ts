// The exhaustive search on several worker threads: level-synchronous breadth-first search over
// a visited set in shared memory. Each level's states sit in one SharedArrayBuffer; workers
// claim chunks of it, expand them (every alphabet step, every property), insert successors into
// the shared fingerprint table with a compare-and-swap, and keep the new ones for the next
// level. Levels are exact, so the state count and the length of each first counterexample are
// those of the one-thread search (bfs.ts); which parent a state records may differ.
//
// The table: two 32-bit words a slot (hi, lo), neither ever 0, so a slot is claimed by a CAS of
// hi from 0 and then published by storing lo; a reader that sees its hi waits for lo. The main
// thread grows the table and the parent links between levels, while the workers wait.

import { Worker } from "node:worker_threads";
import { ACTIONS } from "../../model/actions.js";
import { RETURNS, type Ret } from "../../model/errno.js";
import { PkvmState } from "../../model/state.js";
import type { Finding, Property } from "../../properties/property.js";
import type { AlphabetStep } from "../alphabet.js";
import type { Engine } from "../engine.js";
import { FP, fingerprint } from "../hash.js";
import type { BfsOptions, BfsResult, BfsViolation, StopReason } from "./bfs.js";
import { concretePath, type Symmetry } from "./symmetry.js";

/** ctl words. */
const STATES = 0;
const NEXT_CHUNK = 1;
const STOP = 2;
const CHUNK = 32;
const STOPS: StopReason[] = ["complete", "violation", "max-states", "time-limit"];
/**
 * Between levels the table grows until the states so far plus the next level's guessed new
 * states (its frontier times twice the last level's new states per frontier state, at least 2)
 * fill at most GROW_AT of it; a level that overruns FULL_AT anyway is an error, never a hang.
 */
const GROW_AT = 0.5;
const FULL_AT = 0.9;

/** What the main thread hands a worker for one level. */
export interface LevelMessage {
  ctl: SharedArrayBuffer;
  table: SharedArrayBuffer;
  parents: SharedArrayBuffer;
  vias: SharedArrayBuffer;
  level: SharedArrayBuffer;
  length: number;
  violated: string[];
  knownSeen: string[];
}

/** What a worker hands back after a level. */
export interface LevelDone {
  next: Uint32Array;
  count: number;
  transitions: number;
  unreduced: number;
  coverage: Float64Array;
  violations: (Omit<BfsViolation, "finding"> & { message: string; pages?: number[] })[];
}

/** The insertion side of the shared table: true if (hi, lo) was new. */
function insert(table: Int32Array, hi: number, lo: number): boolean {
  hi |= 0; // the table's words are signed
  lo |= 0;
  const slots = table.length / 2;
  let i = Math.floor(((lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0) * slots / 4294967296);
  for (;;) {
    const old = Atomics.compareExchange(table, 2 * i, 0, hi);
    if (old === 0) {
      Atomics.store(table, 2 * i + 1, lo);
      return true;
    }
    if (old === hi) {
      let l = Atomics.load(table, 2 * i + 1);
      while (l === 0) l = Atomics.load(table, 2 * i + 1);
      if (l === lo) return false;
    }
    i = i + 1 === slots ? 0 : i + 1;
  }
}

function pathTo(parents: Int32Array, vias: Int32Array, index: number): number[] {
  const path: number[] = [];
  for (let i = index; i !== 0; i = parents[i]) path.push(vias[i]);
  return path.reverse();
}

const RET_INDEX = new Map<Ret, number>(RETURNS.map((r, i) => [r, i]));
const ACTION_INDEX = new Map(ACTIONS.map((a, i) => [a, i]));

/** Worker side: expands chunks of one level until none is left (or the search stops). */
export function expandLevel(
  engine: Engine,
  alphabet: readonly AlphabetStep[],
  opts: Pick<BfsOptions, "properties" | "keepGoing" | "known" | "maxStates">,
  sym: Symmetry | undefined,
  m: LevelMessage,
): LevelDone {
  const words = engine.world.words;
  const ctl = new Int32Array(m.ctl);
  const table = new Int32Array(m.table);
  const parents = new Int32Array(m.parents);
  const vias = new Int32Array(m.vias);
  const level = new Uint32Array(m.level);
  const k = engine.k;
  const run = alphabet.map((s) => engine.transitionOf(s));
  const covRow = alphabet.map((s) => ACTION_INDEX.get(s.action)! * RETURNS.length);
  const coverage = new Float64Array(ACTIONS.length * RETURNS.length);
  const violated = new Set(m.violated);
  const knownSeen = new Set(m.knownSeen);
  const liveState = () => opts.properties.filter((p) => p.checkState && !violated.has(p.id));
  const liveSteps = () => {
    const live = opts.properties.filter((p) => p.checkStep && !violated.has(p.id));
    return alphabet.map((s) => live.filter((p) => !p.actions || p.actions.includes(s.action.name)));
  };
  let stateProps = liveState();
  let stepProps = liveSteps();
  const pre = new PkvmState(engine.world, new Uint32Array(words));
  const post = new PkvmState(engine.world, new Uint32Array(words));
  const canon = new Uint32Array(words);
  const scratch = new Uint32Array(words);
  let next = new Uint32Array((words + 1) * 256);
  let count = 0;
  let transitions = 0;
  let unreduced = 0;
  const violations: LevelDone["violations"] = [];
  const stop = (why: number) => Atomics.compareExchange(ctl, STOP, 0, why);

  const report = (p: Property, f: Finding, via: number, path: () => number[]): void => {
    const known = opts.known?.(p.id, via < 0 ? undefined : alphabet[via]);
    if (known !== undefined) {
      if (!knownSeen.has(known)) violations.push({ property: p.id, known, message: f.message, path: path() });
      knownSeen.add(known);
      return;
    }
    violated.add(p.id);
    violations.push({ property: p.id, message: f.message, path: path() });
    if (!opts.keepGoing) stop(1);
    stateProps = liveState();
    stepProps = liveSteps();
  };

  k.s = post.s;
  for (;;) {
    const start = Atomics.add(ctl, NEXT_CHUNK, CHUNK);
    if (start >= m.length || Atomics.load(ctl, STOP) !== 0) break;
    for (let q = start; q < Math.min(start + CHUNK, m.length) && Atomics.load(ctl, STOP) === 0; q++) {
      const off = q * (words + 1);
      pre.s.set(level.subarray(off, off + words));
      const from = level[off + words];
      post.s.set(pre.s);
      for (let a = 0; a < alphabet.length; a++) {
        const step = alphabet[a];
        if (step.enabled !== undefined && !step.enabled(pre)) continue;
        const ret = run[a](k, step.args);
        transitions++;
        coverage[covRow[a] + RET_INDEX.get(ret)!]++;
        const checks = stepProps[a];
        for (let c = 0; c < checks.length; c++) {
          const f = checks[c].checkStep!(pre, step, ret, post);
          if (f) report(checks[c], f, a, () => [...pathTo(parents, vias, from), a]);
        }
        if (equalWords(pre.s, post.s)) continue;
        let orbit = 1;
        canon.set(post.s);
        if (sym) orbit = sym.canonicalize(canon, scratch);
        fingerprint(canon);
        if (insert(table, FP[0] || 1, FP[1] || 1)) {
          const index = Atomics.add(ctl, STATES, 1);
          parents[index] = from;
          vias[index] = a;
          unreduced += orbit;
          for (const p of stateProps) {
            const f = p.checkState!(post);
            if (f) report(p, f, a, () => [...pathTo(parents, vias, from), a]);
          }
          if ((count + 1) * (words + 1) > next.length) {
            const grown = new Uint32Array(next.length * 2);
            grown.set(next);
            next = grown;
          }
          next.set(canon, count * (words + 1));
          next[count * (words + 1) + words] = index;
          count++;
          if (opts.maxStates !== undefined && index + 1 >= opts.maxStates) stop(2);
          if (index + 1 > (FULL_AT * table.length) / 2) throw new Error("workers: the visited table is full (a level grew more than the table's headroom)");
        }
        post.s.set(pre.s);
      }
    }
  }
  return { next: next.slice(0, count * (words + 1)), count, transitions, unreduced, coverage, violations };
}

function equalWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A worker thread that answers LevelMessages with LevelDones. */
export interface LevelWorker {
  post(m: LevelMessage): Promise<LevelDone>;
  close(): Promise<void>;
}

/** A LevelWorker on `file`, a module that answers each message with expandLevel()'s result. */
export function levelWorker(file: URL, workerData: unknown): LevelWorker {
  const worker = new Worker(file, { workerData });
  let pending: { resolve: (d: LevelDone) => void; reject: (e: Error) => void } | undefined;
  worker.on("message", (d: LevelDone) => pending?.resolve(d));
  worker.on("error", (e) => pending?.reject(e));
  return {
    post: (m) =>
      new Promise((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage(m);
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}

/**
 * Main side: the search of bfs.ts over `workers` threads (each with its own engine, alphabet
 * and properties, built from the same job). `engine`, `alphabet` and `opts` here serve the
 * initial state and the concrete traces.
 */
export async function parallelBfs(
  engine: Engine,
  alphabet: readonly AlphabetStep[],
  opts: BfsOptions,
  workers: LevelWorker[],
): Promise<Omit<BfsResult, "visited"> & { workers: number }> {
  const t0 = Date.now();
  const words = engine.world.words;
  const sym = opts.symmetry?.trivial ? undefined : opts.symmetry;
  const ctl = new SharedArrayBuffer(4 * 4);
  const ctlView = new Int32Array(ctl);
  let slots = 1 << 16;
  let branching = 2;
  let table = new SharedArrayBuffer(8 * slots);
  let parents = new SharedArrayBuffer(4 * slots);
  let vias = new SharedArrayBuffer(4 * slots);
  const coverage = new Float64Array(ACTIONS.length * RETURNS.length);
  const violations: BfsViolation[] = [];
  const violated = new Set<string>();
  const knownSeen = new Set<string>();
  let transitions = 0;
  let depth = 0;
  let stop: StopReason = "complete";

  const concrete = (p: Property, message: string, path: number[]): { finding: Finding; path: number[] } =>
    sym ? concretePath(engine, alphabet, sym, path, p) : { finding: { message }, path };
  const init = engine.initial();
  const scratch = new Uint32Array(words);
  let unreduced = sym ? sym.canonicalize(init, scratch) : 1;
  fingerprint(init);
  insert(new Int32Array(table), FP[0] || 1, FP[1] || 1);
  ctlView[STATES] = 1;
  for (const p of opts.properties) {
    const f = p.checkState?.(new PkvmState(engine.world, init));
    if (!f) continue;
    const known = opts.known?.(p.id, undefined);
    if (known === undefined) violated.add(p.id);
    else knownSeen.add(known);
    violations.push({ property: p.id, known, finding: f, path: [] });
  }
  if (violated.size > 0 && !opts.keepGoing) stop = "violation";
  let level = new SharedArrayBuffer(4 * (words + 1));
  new Uint32Array(level).set([...init, 0]);
  let length = 1;
  const timer = opts.timeLimitMs === undefined ? undefined : setTimeout(() => Atomics.compareExchange(ctlView, STOP, 0, 3), opts.timeLimitMs);
  const progress = opts.onProgress && setInterval(() => opts.onProgress!({ states: Atomics.load(ctlView, STATES), transitions, queue: length, depth, elapsedMs: Date.now() - t0 }), 2000);

  try {
    while (length > 0 && stop === "complete") {
      if (opts.maxDepth !== undefined && depth >= opts.maxDepth) {
        stop = "max-depth";
        break;
      }
      const need = ctlView[STATES] + length * branching;
      if (need > GROW_AT * slots) [table, parents, vias, slots] = grow(table, parents, vias, slots, need);
      ctlView[NEXT_CHUNK] = 0;
      const m: LevelMessage = { ctl, table, parents, vias, level, length, violated: [...violated], knownSeen: [...knownSeen] };
      const done = await Promise.all(workers.map((w) => w.post(m)));
      let total = 0;
      for (const d of done) {
        total += d.count;
        transitions += d.transitions;
        unreduced += d.unreduced;
        for (let i = 0; i < coverage.length; i++) coverage[i] += d.coverage[i];
      }
      // Within a level every first counterexample has the same length: keep one per property / known finding.
      for (const v of done.flatMap((d) => d.violations)) {
        if (v.known !== undefined ? knownSeen.has(v.known) : violated.has(v.property)) continue;
        if (v.known !== undefined) knownSeen.add(v.known);
        else violated.add(v.property);
        violations.push({ property: v.property, known: v.known, ...concrete(opts.properties.find((p) => p.id === v.property)!, v.message, v.path) });
      }
      const why = STOPS[Atomics.load(ctlView, STOP)];
      if (why !== "complete") {
        stop = why;
        break;
      }
      level = new SharedArrayBuffer(4 * Math.max(1, total) * (words + 1));
      const into = new Uint32Array(level);
      let at = 0;
      for (const d of done) {
        into.set(d.next, at);
        at += d.next.length;
      }
      branching = Math.max(2, (2 * total) / length);
      length = total;
      if (length > 0) depth++;
    }
  } finally {
    if (timer) clearTimeout(timer);
    if (progress) clearInterval(progress);
  }
  const states = Math.min(Atomics.load(ctlView, STATES), opts.maxStates ?? Infinity);
  return {
    stop,
    states,
    unreducedStates: unreduced,
    transitions,
    depth,
    elapsedMs: Date.now() - t0,
    bytesPerState: { visited: table.byteLength / states, links: 8 },
    coverage: ACTIONS.map((_, i) => Array.from(coverage.subarray(i * RETURNS.length, (i + 1) * RETURNS.length))),
    violations,
    workers: workers.length,
  };
}

/** A table big enough for `need` states (rehashed) and parent links to match; workers are idle. */
function grow(table: SharedArrayBuffer, parents: SharedArrayBuffer, vias: SharedArrayBuffer, slots: number, need: number): [SharedArrayBuffer, SharedArrayBuffer, SharedArrayBuffer, number] {
  let n = slots;
  while (need > GROW_AT * n) n *= 2;
  const t = new SharedArrayBuffer(8 * n);
  const into = new Int32Array(t);
  const old = new Int32Array(table);
  for (let j = 0; j < old.length; j += 2) if (old[j] !== 0) insert(into, old[j], old[j + 1]);
  const p = new SharedArrayBuffer(4 * n);
  new Int32Array(p).set(new Int32Array(parents));
  const v = new SharedArrayBuffer(4 * n);
  new Int32Array(v).set(new Int32Array(vias));
  return [t, p, v, n];
}
