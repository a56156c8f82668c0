// AG EF: a VM whose teardown started can always be finalized. From every reachable state some
// sequence of calls finalizes every DYING VM, so nothing (a loaded vCPU, a guest, a page the
// host did not reclaim) can hold a dying VM's slot and metadata forever.

import { VmLife, type PkvmState } from "../model/state.js";
import { finding, type AlwaysEventuallyPossible, type Finding } from "./property.js";

function unmet(s: PkvmState): Finding | null {
  for (let v = 0; v < s.w.config.vms.length; v++) {
    if (s.vmLife(v) === VmLife.DYING) return finding(`vm ${v} is DYING, its teardown not finalized`);
  }
  return null;
}

const property: AlwaysEventuallyPossible = {
  kind: "always-eventually-possible",
  id: "teardown-completes",
  description: "from every state every DYING VM can still be finalized",
  unmet,
};
export default property;
