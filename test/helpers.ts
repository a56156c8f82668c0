// Shared test helpers: a world from a config literal, and a runner that applies named steps
// and returns each step's return string.

import { stepOf } from "../model/actions.js";
import type { Args } from "../model/args.js";
import { parseWorldConfig } from "../model/config.js";
import type { Ret } from "../model/errno.js";
import { Pkvm } from "../model/pkvm.js";
import { World } from "../model/world.js";
import { Engine } from "../src/engine.js";

export function world(config: unknown): World {
  return new World(parseWorldConfig(config));
}

/** A machine that runs named steps on the reference engine; `k` reads the current state. */
export class Machine {
  readonly engine: Engine;
  state: Uint32Array;

  constructor(config: unknown) {
    this.engine = new Engine(world(config));
    this.state = this.engine.initial();
  }

  get k(): Pkvm {
    return new Pkvm(this.engine.world, this.state);
  }

  run(name: string, args: Partial<Args> = {}): Ret {
    const r = this.engine.step(this.state, stepOf(name, args));
    this.state = r.state;
    return r.ret;
  }
}
