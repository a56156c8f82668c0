// Invariant 15: pages a finalized VM left behind (semantics 5, "Leaks") stay inert. A leaked
// page never becomes host OWNED (its stale share count or annotation pins it), never goes to
// the hyp, is never owned again by a guest (a non-protected VM may still borrow a leaked
// shared page: the host still holds it SO), and a leaked page the host had no access to stays
// behind its annotation.

import { PageState, S2 } from "../model/state.js";
import { guestMaps, type GuestMaps } from "./lib/guest-maps.js";
import { checkedPages, s2Name, stateName } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

const property: Property = {
  id: "leaked-pages-inert",
  description: "a page left behind by a finalized VM is never host OWNED, hyp-owned or guest-owned, and stays unreachable if it was",
  invariant: 15,
  checkState(s) {
    let maps: GuestMaps | null = null; // most states have no leaks: index only when one does
    for (const p of checkedPages(s)) {
      if (!s.leaked(p)) continue;
      maps ??= guestMaps(s);
      let problem: string | null = null;
      if (s.hostState(p) === PageState.OWNED) problem = "host OWNED";
      else if (s.hypState(p) !== PageState.NOPAGE) problem = `hyp ${stateName(s.hypState(p))}`;
      else if (maps.owners(p) > 0) problem = `${maps.where(p)} owns it`;
      else if (s.hostState(p) === PageState.NOPAGE && s.hostS2(p) !== S2.ANNOTATION) problem = `host-accessible (host NOPAGE, host stage-2 ${s2Name(s.hostS2(p))})`;
      if (problem) return finding(`pfn ${p}: leaked but ${problem}`, { pages: [p], frames: maps.frames(p) });
    }
    return null;
  },
};

export default property;
