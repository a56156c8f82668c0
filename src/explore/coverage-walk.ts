// (state, step) samples chosen by branch coverage, not by luck: guided walks on the reference
// engine that try every step of the alphabet in each state they visit and keep a sample of each
// (action, return) branch that has fewer than `perBranch` samples, or none yet in this state's
// context (vCPU loaded, block borrowed, memcache filled, leak, page shared back). A walk moves
// into a state of an outline (a coarse picture: page states, leaf counts, VM lives) it has not
// seen, else along any state-changing step picked action first, so that the many arguments of
// host accesses do not crowd out vcpu_load or finalize_teardown_vm; it restarts next to a branch
// still short of samples, at a state where something new was found, or at the initial state.
// So the walks reach loaded vCPUs, borrowed blocks, guest shares, a filled memcache and stale
// annotations of finalized VMs (9 steps deep in `default`) where random walks do not. They stop
// once every branch met (and every target) has its samples and a long stretch found nothing new.

import { GuestEntry, PageState, PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import { alphabet, type AlphabetStep } from "../alphabet.js";
import { Engine, type ModelVariant } from "../engine.js";
import type { Sample } from "../smt/walk.js";
import { prng } from "../smt/walk.js";
import { branchKey } from "./branches.js";

export interface CoverageWalkOptions {
  seed: number;
  /** Samples wanted of every branch. */
  perBranch: number;
  /**
   * Samples wanted of every branch in each context a state can give it (a vCPU loaded or not, a
   * block borrowed or not, a memcache filled or not, a page leaked or not, a page shared back or
   * not), so that branches met first in bare states are also sampled in rich ones (default 1).
   */
  perContext?: number;
  /**
   * Branches known to be reachable (say, by the exhaustive search): the walks go on until each
   * has its samples too, or `maxStates`.
   */
  targets?: ReadonlySet<string>;
  /** States visited at most (default 20,000). */
  maxStates?: number;
  /** Once every branch has its samples: visited states in a row that find no new branch before stopping (default 1,000). */
  quiet?: number;
  /** Steps before a walk restarts (default 60). */
  restartEvery?: number;
  /** Include hyp_donate_host (default true). */
  allowInternal?: boolean;
  /** The model variant walked (a seeded fault); default the real model. */
  variant?: ModelVariant;
}

export interface CoverageWalk {
  readonly samples: Sample[];
  /** Samples kept per branch ("action return"), for every branch the walks met. */
  readonly counts: Map<string, number>;
  /** States visited. */
  readonly states: number;
}

export function coverageSamples(w: World, opts: CoverageWalkOptions): CoverageWalk {
  const engine = new Engine(w, opts.variant);
  const steps: readonly AlphabetStep[] = alphabet(w, { allowInternal: opts.allowInternal ?? true });
  const rand = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const view = new PkvmState(w);
  const scratch = new Uint32Array(w.words);
  const samples: Sample[] = [];
  const counts = new Map<string, number>();
  const inContext = new Map<string, number>();
  const perContext = opts.perContext ?? 1;
  const maxStates = opts.maxStates ?? 20_000;
  const quiet = opts.quiet ?? 1_000;
  const restartEvery = opts.restartEvery ?? 60;
  /** A target, or a branch met, still short of samples. */
  const short = () => [...(opts.targets ?? []), ...counts.keys()].some((b) => (counts.get(b) ?? 0) < opts.perBranch);
  /**
   * Where walks restart: half the time next to a branch still short of samples (a state where it
   * was met), else half the time a state of an outline never seen before (where the last walks
   * found something new), else the initial state.
   */
  const metAt = new Map<string, Uint32Array[]>();
  const frontier: Uint32Array[] = [];
  const outlines = new Set<string>();
  const restart = (): Uint32Array => {
    const wanting = [...metAt.keys()].filter((b) => (counts.get(b) ?? 0) < opts.perBranch);
    if (wanting.length > 0 && rand() < 0.5) return pick(metAt.get(pick(wanting))!);
    return frontier.length > 0 && rand() < 0.5 ? pick(frontier) : engine.initial();
  };

  let state = engine.initial();
  let length = 0;
  let visited = 0;
  let sinceProgress = 0;
  while (visited < maxStates && (sinceProgress < quiet || short())) {
    visited++;
    sinceProgress++;
    view.s = state;
    const o = outline(view);
    if (!outlines.has(o)) {
      outlines.add(o);
      frontier.push(state);
    }
    // Every step once, in place on a scratch copy: per branch, how many steps of this state take
    // it and one of them (reservoir), and the state-changing steps by action.
    const seen = new Map<string, { n: number; step: number }>();
    const moves = new Map<string, number[]>();
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (step.enabled && !step.enabled(view)) continue;
      scratch.set(state);
      const ret = engine.applyInPlace(scratch, step);
      const key = branchKey(step.action.name, ret);
      const b = seen.get(key);
      if (!b) seen.set(key, { n: 1, step: i });
      else if (rand() * ++b.n < 1) b.step = i;
      if (!sameWords(scratch, state)) {
        let m = moves.get(step.action.name);
        if (!m) moves.set(step.action.name, (m = []));
        m.push(i);
      }
    }
    const where = context(view);
    for (const [key, b] of seen) {
      const n = counts.get(key) ?? 0;
      const m = inContext.get(`${key} ${where}`) ?? 0;
      if (n >= opts.perBranch && m >= perContext) continue;
      const r = engine.step(state, steps[b.step]);
      samples.push({ pre: state, step: steps[b.step], ret: r.ret, post: r.state });
      counts.set(key, n + 1);
      inContext.set(`${key} ${where}`, m + 1);
      sinceProgress = 0;
      const at = metAt.get(key) ?? [];
      if (at.length < 32) metAt.set(key, [...at, state]);
    }
    if (moves.size === 0 || ++length >= restartEvery) {
      state = restart();
      length = 0;
      continue;
    }
    // Greedy novelty: a move into a state of an unseen outline if there is one, else any move.
    const all = [...moves.values()].flat();
    let next: Uint32Array | undefined;
    for (let tries = all.length; tries > 0 && !next; tries--) {
      const j = Math.floor(rand() * all.length);
      const after = engine.step(state, steps[all[j]]).state;
      view.s = after;
      if (!outlines.has(outline(view))) next = after;
      all[j] = all[all.length - 1];
      all.pop();
    }
    state = next ?? engine.step(state, steps[pick(pick([...moves.values()]))]).state;
  }
  return { samples, counts, states: visited };
}

/** Which of the rich features a state has, as bits: what `perContext` samples each branch in. */
function context(k: PkvmState): number {
  let bits = k.loadedVm() >= 0 ? 1 : 0;
  for (let p = 0; p < k.w.pages; p++) if (k.leaked(p)) bits |= 2;
  k.w.config.vms.forEach((vm, v) => {
    for (let i = 0; i < vm.vcpus; i++) if (k.w.config.memcache && k.memcacheCount(v, i) > 0) bits |= 4;
    for (let g = 0; g < vm.gfns; g++) {
      if (k.guestEntry(v, g) !== GuestEntry.MAPPED) continue;
      if (k.guestBlock(v, g)) bits |= 8;
      if (k.guestState(v, g) === PageState.SHARED_OWNED) bits |= 16;
    }
  });
  return bits;
}

/**
 * A coarse picture of a state: each page's host and hyp state, share count (capped) and leak
 * mark; each VM's life, its leaves by state and how many are block leaves; the loaded vCPU.
 * Contents, stage-2 entries and which gfn maps which page are left out: the outlines stay few.
 */
function outline(k: PkvmState): string {
  const parts: number[] = [k.loadedVm()];
  for (let p = 0; p < k.w.pages; p++) parts.push(k.hostState(p), k.hypState(p), Math.min(k.hostShareGuestCount(p), 3), k.leaked(p) ? 1 : 0);
  k.w.config.vms.forEach((vm, v) => {
    const leaves = [0, 0, 0, 0, 0, 0];
    for (let g = 0; g < vm.gfns; g++) {
      leaves[k.guestEntry(v, g) === GuestEntry.POISON ? 4 : k.guestState(v, g)]++;
      if (k.guestEntry(v, g) === GuestEntry.MAPPED && k.guestBlock(v, g)) leaves[5]++;
    }
    parts.push(k.vmLife(v), ...leaves);
  });
  return parts.join(",");
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface BranchCoverage {
  /** Branches seen by the exhaustive search or the walks. */
  readonly reachable: number;
  /** Reachable branches with no sample. */
  readonly unsampled: string[];
  /** Branches of the exhaustive search with fewer than perBranch samples, with their counts. */
  readonly short: string[];
  /** One line for a report: "96 of 96 reachable branches sampled (92 ...)". */
  readonly summary: string;
}

/** How well `walk` covers the branches: those of the exhaustive search, and those it met itself. */
export function branchCoverage(walk: CoverageWalk, exhaustive: ReadonlySet<string>, perBranch: number): BranchCoverage {
  const reachable = new Set([...exhaustive, ...walk.counts.keys()]);
  const unsampled = [...reachable].filter((b) => !walk.counts.has(b));
  const short = [...exhaustive].filter((b) => (walk.counts.get(b) ?? 0) < perBranch).map((b) => `${b} (${walk.counts.get(b) ?? 0})`);
  const full = [...reachable].filter((b) => (walk.counts.get(b) ?? 0) >= perBranch).length;
  const pct = (n: number) => `${((100 * n) / reachable.size).toFixed(1)}%`;
  const summary =
    `branch coverage ${reachable.size - unsampled.length} of ${reachable.size} reachable (action, return) branches sampled ` +
    `(${pct(reachable.size - unsampled.length)}), ${full} of them ${perBranch} times or more (${pct(full)}); ` +
    `${exhaustive.size} seen by the exhaustive search; ${walk.samples.length} samples from ${walk.states} states`;
  return { reachable: reachable.size, unsampled, short, summary };
}
