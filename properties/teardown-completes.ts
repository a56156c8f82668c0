// AG EF: a VM whose teardown started can always be finalized. From every reachable state some
// sequence of calls finalizes every DYING VM, so nothing (a loaded vCPU, a guest, a page the
// host did not reclaim) can hold a dying VM's slot and metadata forever.

import { VmLife, type PkvmState } from "../model/state.js";
import { finding, type AlwaysEventuallyPossible } from "./property.js";

/** The first DYING VM slot, or -1. */
function dyingVm(s: PkvmState): number {
  for (let v = 0; v < s.w.config.vms.length; v++) if (s.vmLife(v) === VmLife.DYING) return v;
  return -1;
}

const property: AlwaysEventuallyPossible = {
  kind: "always-eventually-possible",
  id: "teardown-completes",
  description: "from every state every DYING VM can still be finalized",
  goal: (s) => dyingVm(s) < 0,
  unmet: (s) => finding(`vm ${dyingVm(s)} is DYING, its teardown not finalized`),
};
export default property;
