// Invariant 6: the host has no access to a RAM page exactly when someone else owns it outright:
// host NOPAGE <=> hyp OWNED or a guest leaf maps it OWNED. Leaked pages have property 15.

import { PageState } from "../model/state.js";
import { guestMaps } from "./lib/guest-maps.js";
import { checkedPages, stateName, tracked } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

const property: Property = {
  id: "nopage-means-foreign",
  description: "a RAM page is host NOPAGE exactly when hyp owns it or a guest maps it OWNED",
  invariant: 6,
  checkState(s) {
    const maps = guestMaps(s);
    for (const p of checkedPages(s)) {
      if (!tracked(s, p)) continue;
      const foreign = s.hypState(p) === PageState.OWNED || maps.mapped(p, PageState.OWNED) > 0;
      const nopage = s.hostState(p) === PageState.NOPAGE;
      if (nopage === foreign) continue;
      const message = nopage
        ? `pfn ${p}: host NOPAGE but neither hyp (${stateName(s.hypState(p))}) nor any guest owns it`
        : `pfn ${p}: host ${stateName(s.hostState(p))} but ${maps.mapped(p, PageState.OWNED) > 0 ? `${maps.where(p)} maps it OWNED` : "hyp OWNED"}`;
      return finding(message, { pages: [p], frames: maps.frames(p) });
    }
    return null;
  },
};

export default property;
