// The reference engine: a pure, deterministic step(state, action) -> (state', ret) over the
// model's transitions. Every other engine runs transitions through this class, so a model
// variant (a seeded fault) is chosen once, here.

export type { Step } from "../model/actions.js";

import type { Step, Transition } from "../model/actions.js";
import type { Ret } from "../model/errno.js";
import { initialState } from "../model/init.js";
import { Pkvm } from "../model/pkvm.js";
import type { World } from "../model/world.js";

/** A deviation from the real model: a kernel-helper subclass and/or replaced transitions. */
export interface ModelVariant {
  readonly kernel?: new (w: World) => Pkvm;
  readonly transitions?: Readonly<Record<string, Transition>>;
}

export interface StepResult {
  state: Uint32Array;
  ret: Ret;
}

export class Engine {
  /** The kernel view the transitions run on; its `s` points at whatever buffer is stepped. */
  readonly k: Pkvm;
  private readonly overrides: Readonly<Record<string, Transition>>;

  constructor(readonly world: World, variant: ModelVariant = {}) {
    this.k = new (variant.kernel ?? Pkvm)(world);
    this.overrides = variant.transitions ?? {};
  }

  initial(): Uint32Array {
    return initialState(this.world);
  }

  /** The transition this model variant runs for an action. */
  transitionOf(step: Step): Transition {
    return this.overrides[step.action.name] ?? step.action.run;
  }

  /** Runs `step` in place on `s`. A failed transition changes nothing, unless the model is faulty. */
  applyInPlace(s: Uint32Array, step: Step): Ret {
    this.k.s = s;
    return this.transitionOf(step)(this.k, step.args);
  }

  /** The pure step: `state` is never modified. */
  step(state: Uint32Array, step: Step): StepResult {
    const next = state.slice();
    const ret = this.applyInPlace(next, step);
    return { state: next, ret };
  }
}
