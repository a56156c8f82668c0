// Under a seeded fault, the real model's known findings (findings/known-findings.json) are not
// the fault's doing and must not be credited to it. The baseline knows a finding by its property
// and action, which is too coarse here: a fault may make that action violate that property for a
// reason of its own. So a violation counts as the known finding only when the real model, run
// from the same state, violates the property on the same step too.

import { matchKnown, type KnownFinding } from "../check/baseline.js";
import { Engine } from "../engine.js";
import { PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import type { Property } from "../../properties/property.js";

export function maskRealModelFindings(properties: readonly Property[], baseline: readonly KnownFinding[]): Property[] {
  const real = new WeakMap<World, Engine>();
  const realEngine = (w: World): Engine => {
    let e = real.get(w);
    if (!e) real.set(w, (e = new Engine(w)));
    return e;
  };
  return properties.map((p) => {
    const check = p.checkStep;
    if (!check || !baseline.some((f) => f.property === p.id)) return p;
    return {
      ...p,
      checkStep: (pre, step, ret, post) => {
        const f = check(pre, step, ret, post);
        if (!f || !matchKnown(baseline, p.id, step.action.name)) return f;
        const r = realEngine(pre.w).step(pre.s, step);
        return check(pre, step, r.ret, new PkvmState(pre.w, r.state)) ? null : f;
      },
    };
  });
}
