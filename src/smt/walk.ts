// Seeded random walks on the reference engine over the adversary's alphabet: the (state, step)
// pairs that the differential and agreement tests feed to z3. A walk prefers steps that succeed
// (a random step mostly fails), restarts now and then, and records every step it tries.

import type { Ret } from "../../model/errno.js";
import { PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import { alphabet, type AlphabetStep } from "../alphabet.js";
import { Engine, type ModelVariant, type Step } from "../engine.js";

/** mulberry32: small, fast, good enough to pick steps. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Sample {
  readonly pre: Uint32Array;
  readonly step: Step;
  readonly ret: Ret;
  readonly post: Uint32Array;
}

export interface WalkOptions {
  seed: number;
  samples: number;
  /** Steps before the walk restarts from the initial state (default 40). */
  restartEvery?: number;
  /** Include hyp_donate_host (default true: the encoding covers it too). */
  allowInternal?: boolean;
  /** The model variant walked (a seeded fault); default the real model. */
  variant?: ModelVariant;
  /** The states a walk (re)starts from, picked at random (default: the initial state). */
  starts?: readonly Uint32Array[];
}

/** `samples` (state, step) pairs from random walks on `w`, with the engine's answers. */
export function randomSamples(w: World, opts: WalkOptions): Sample[] {
  const engine = new Engine(w, opts.variant);
  const steps = alphabet(w, { allowInternal: opts.allowInternal ?? true });
  const rand = prng(opts.seed);
  const view = new PkvmState(w);
  const out: Sample[] = [];
  const starts = opts.starts ?? [engine.initial()];
  const start = () => starts[Math.floor(rand() * starts.length)];
  let state = start();
  let length = 0;
  const pick = (): AlphabetStep => {
    view.s = state;
    for (;;) {
      const s = steps[Math.floor(rand() * steps.length)];
      if (!s.enabled || s.enabled(view)) return s;
    }
  };
  while (out.length < opts.samples) {
    if (length++ >= (opts.restartEvery ?? 40)) {
      state = start();
      length = 0;
    }
    // Try a few steps from this state, record them all, and move along a successful one.
    let next: Uint32Array | undefined;
    for (let tries = 0; tries < 8 && out.length < opts.samples; tries++) {
      const step = pick();
      const r = engine.step(state, step);
      out.push({ pre: state, step, ret: r.ret, post: r.state });
      if (r.ret === "0" && (next === undefined || rand() < 0.3)) next = r.state;
    }
    if (next) state = next;
  }
  return out;
}
