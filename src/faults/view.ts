// Most seeded faults deviate in one kernel helper, and only inside one transition: the real
// transition runs unchanged on a view of the engine's state through a Pkvm subclass that
// overrides that helper. So the fault is the override alone, and the model's code is untouched.

import type { Transition } from "../../model/actions.js";
import type { Args } from "../../model/args.js";
import type { WorldConfig } from "../../model/config.js";
import type { Ret } from "../../model/errno.js";
import type { Pkvm } from "../../model/pkvm.js";
import { World } from "../../model/world.js";

export type KernelClass<K extends Pkvm = Pkvm> = new (w: World) => K;

/** `run` (a real transition, or one wrapped) on a `Kernel` view of the state being stepped. */
export function through<K extends Pkvm>(Kernel: KernelClass<K>, run: (k: K, a: Args) => Ret): Transition {
  const views = new WeakMap<World, K>();
  return (k, a) => {
    let view = views.get(k.w);
    if (!view) views.set(k.w, (view = new Kernel(k.w)));
    view.s = k.s;
    return run(view, a);
  };
}

/**
 * The same world as the kernel code of a fault misreads it: `change` may alter what checks read
 * (VM types, the share count's saturation value) but nothing the state layout depends on.
 */
export function misread(w: World, change: (c: WorldConfig) => Partial<WorldConfig>): World {
  return new World({ ...w.config, ...change(w.config) });
}
