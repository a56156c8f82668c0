// MEMBLOCK_NOMAP pages are firmware-reserved: still memory the host owns and may touch, but
// check_range_allowed_memory() refuses every donation and share of them (B2 was the bug that
// let them through). So a NOMAP page stays host OWNED, hyp NOPAGE, not FF-A shared, and no
// guest maps it, in every reachable state.

import { SegKind } from "../model/world.js";
import { PageState } from "../model/state.js";
import { guestMaps } from "./lib/guest-maps.js";
import { checkedPages, stateName } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

const property: Property = {
  id: "nomap-stays-host",
  description: "a MEMBLOCK_NOMAP page is never donated or shared: host OWNED, hyp NOPAGE, no FF-A share, no guest mapping",
  checkState(s) {
    const w = s.w;
    let maps: ReturnType<typeof guestMaps> | undefined;
    for (const p of checkedPages(s)) {
      if (w.segKind[w.seg[p]] !== SegKind.NOMAP) continue;
      maps ??= guestMaps(s);
      const why =
        s.hostState(p) !== PageState.OWNED ? `host ${stateName(s.hostState(p))}`
        : s.hypState(p) !== PageState.NOPAGE ? `hyp ${stateName(s.hypState(p))}`
        : s.ffaShared(p) ? "FF-A shared"
        : maps.mappings(p) > 0 ? `mapped by ${maps.where(p)}`
        : null;
      if (why) return finding(`pfn ${p}: MEMBLOCK_NOMAP but ${why}`, { pages: [p], frames: maps.frames(p) });
    }
    return null;
  },
};

export default property;
