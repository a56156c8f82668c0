// Invariant 1: every RAM page has exactly one owner: the host (OWNED / SO), the hyp (OWNED / SO),
// or exactly one guest leaf (OWNED / SO) of a present VM. Leaked pages have property 15.

import { PageState, type PkvmState } from "../model/state.js";
import { guestMaps, type GuestMaps } from "./lib/guest-maps.js";
import { checkedPages, stateName, tracked } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

const owns = (st: PageState): boolean => st === PageState.OWNED || st === PageState.SHARED_OWNED;

function ownerList(s: PkvmState, maps: GuestMaps, p: number): string {
  const who: string[] = [];
  if (owns(s.hostState(p))) who.push(`host ${stateName(s.hostState(p))}`);
  if (owns(s.hypState(p))) who.push(`hyp ${stateName(s.hypState(p))}`);
  if (maps.owners(p) > 0) who.push(maps.owners(p) === 1 ? maps.where(p) : `${maps.owners(p)} guest leaves (${maps.where(p)} among them)`);
  return who.join(", ");
}

const property: Property = {
  id: "unique-owner",
  description: "every RAM page has exactly one owner: host, hyp or one guest mapping (OWNED or SO)",
  invariant: 1,
  checkState(s) {
    const maps = guestMaps(s);
    for (const p of checkedPages(s)) {
      if (!tracked(s, p)) continue;
      const n = (owns(s.hostState(p)) ? 1 : 0) + (owns(s.hypState(p)) ? 1 : 0) + maps.owners(p);
      if (n === 1) continue;
      const message =
        n === 0
          ? `pfn ${p}: no owner (host ${stateName(s.hostState(p))}, hyp ${stateName(s.hypState(p))}, no guest owns it)`
          : `pfn ${p}: ${n} owners: ${ownerList(s, maps, p)}`;
      return finding(message, { pages: [p], frames: maps.frames(p) });
    }
    return null;
  },
};

export default property;
