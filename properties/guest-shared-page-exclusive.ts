// Worked example beyond semantics section 6 (walked through in properties/README.md): a page a
// protected guest shared with the host is seen by that guest and the host only; no other guest
// maps it, in any state. Together with invariants 3 and 5 this is what lets a protected guest
// use a shared page as a private channel to the host (virtio rings, say).

import { PageState, VmLife } from "../model/state.js";
import { guestMaps } from "./lib/guest-maps.js";
import { finding, type Property } from "./property.js";

const property: Property = {
  id: "guest-shared-page-exclusive",
  description: "a page a protected guest shared with the host is mapped by no other guest",
  checkState(s) {
    const maps = guestMaps(s);
    const { vms } = s.w.config;
    for (let v = 0; v < vms.length; v++) {
      if (!vms[v].protected || s.vmLife(v) === VmLife.ABSENT) continue;
      for (let g = 0; g < vms[v].gfns; g++) {
        if (s.guestState(v, g) !== PageState.SHARED_OWNED) continue;
        const p = s.guestPfn(v, g);
        if (maps.mappings(p) === 1) continue;
        return finding(`pfn ${p}: shared with the host by vm ${v} gfn ${g}, but mapped by ${maps.mappings(p)} guest leaves`, {
          pages: [p],
          frames: [[v, g]],
        });
      }
    }
    return null;
  },
};

export default property;
