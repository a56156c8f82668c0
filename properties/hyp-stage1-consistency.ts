// Invariant 8: the hyp stage-1 maps exactly the pages the hyp owns and the host-shared pages it
// holds a pin on (refcount 0 -> 1 maps, 1 -> 0 unmaps). Pins exist only on hyp-borrowed pages:
// a refcount anywhere else would let hyp_donate_host hand back a page still in use (B8).

import { PageState } from "../model/state.js";
import { checkedPages, stateName } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

const property: Property = {
  id: "hyp-stage1-consistency",
  description: "the hyp stage-1 maps a page exactly when hyp owns it, or borrows it with a pin",
  invariant: 8,
  checkState(s) {
    for (const p of checkedPages(s)) {
      const hyp = s.hypState(p);
      const ref = s.refcount(p);
      if (ref > 0 && hyp !== PageState.SHARED_BORROWED) {
        return finding(`pfn ${p}: refcount ${ref} but hyp ${stateName(hyp)}`, { pages: [p] });
      }
      const should = hyp === PageState.OWNED || (hyp === PageState.SHARED_BORROWED && ref > 0);
      if (s.hypS1Mapped(p) === should) continue;
      const message = should
        ? `pfn ${p}: hyp ${stateName(hyp)}${ref > 0 ? ` with refcount ${ref}` : ""} but not mapped at EL2`
        : `pfn ${p}: mapped at EL2 but hyp ${stateName(hyp)}${hyp === PageState.SHARED_BORROWED ? " and not pinned" : ""}`;
      return finding(message, { pages: [p] });
    }
    return null;
  },
};

export default property;
