// Invariant 16: no host- or guest-callable action, with any arguments, in any reachable state,
// makes the hypervisor panic. Hyp-internal actions (pins, donations into hyp) are the hyp's own
// doing and are excluded: a panic there is a modelling question, not the adversary's win.

import { formatStep, isAdversarial } from "../model/actions.js";
import { finding, type Property } from "./property.js";

const property: Property = {
  id: "no-hyp-panic",
  description: "no host- or guest-callable action makes the hypervisor panic (BUG_ON / WARN_ON at EL2)",
  invariant: 16,
  checkStep(_pre, step, ret) {
    if (ret !== "PANIC" || !isAdversarial(step.action)) return null;
    const named = step.action.args;
    return finding(`${formatStep(step)} made the hypervisor panic`, {
      pages: named.includes("pfn") ? [step.args.pfn] : [],
      frames: named.includes("gfn") ? [[step.args.vm, step.args.gfn]] : [],
    });
  },
};

export default property;
