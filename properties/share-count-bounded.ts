// The kernel's u32 host_share_guest_count (struct hyp_page) never passes the saturation value
// at which host_share_guest answers -EBUSY (bug B5 was its wrapping), on any page, leaked ones
// included; and on the pages invariant 3 covers it counts exactly the guest leaves that borrow
// the page (share-consistency says so too, among invariants 2-5: here the counter is whole).
// The model stores the count in a Uint32Array word, so it wraps where the kernel's does; a
// world's small `maxShareCount` makes the bound reachable in a few steps.

import { PageState } from "../model/state.js";
import { firstPageProblem } from "./lib/guest-maps.js";
import { leaves } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

const property: Property = {
  id: "share-count-bounded",
  description: "host_share_guest_count is at most maxShareCount, and counts the guest leaves borrowing the page",
  checkState(s) {
    const max = s.w.config.maxShareCount;
    for (let p = 0; p < s.w.pages; p++) {
      const cnt = s.hostShareGuestCount(p);
      if (cnt > max) return finding(`pfn ${p}: share count ${cnt} above the maximum ${max}`, { pages: [p] });
    }
    return firstPageProblem(s, (k, maps, p) => {
      const sb = maps.mapped(p, PageState.SHARED_BORROWED);
      const cnt = k.hostShareGuestCount(p);
      return cnt === sb ? null : `share count ${cnt} but ${sb} guest SB ${leaves(sb)}`;
    });
  },
};

export default property;
