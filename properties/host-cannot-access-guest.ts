// Invariant 9: the host never touches a page that the hyp owns or a guest owns and has not
// shared with it. State form: such a page is never behind an empty entry or an identity map of
// the host stage-2 (an empty entry is faulted in on the first touch). Step form: a host access
// that succeeds was to a page the host had access to before it (host NOPAGE is the hyp's or a
// guest's private page, leaked ones included).

import { PageState, type PkvmState } from "../model/state.js";
import { guestMaps } from "./lib/guest-maps.js";
import { checkedPages, hostAccessible, s2Name } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

/** Who holds p privately, for a message: "hyp", "vm 0 gfn 1" or "a finalized VM (leaked)". */
function privateOwner(s: PkvmState, p: number): string {
  if (s.hypState(p) === PageState.OWNED) return "hyp";
  const maps = guestMaps(s);
  if (maps.mapped(p, PageState.OWNED) > 0) return maps.where(p);
  return s.leaked(p) ? "a finalized VM (leaked)" : "no one";
}

const property: Property = {
  id: "host-cannot-access-guest",
  description: "no host access reaches a hyp-owned page or a guest page not shared with the host",
  invariant: 9,
  actions: ["host_read", "host_write"],
  checkState(s) {
    const maps = guestMaps(s);
    for (const p of checkedPages(s)) {
      if (!hostAccessible(s, p)) continue;
      const hyp = s.hypState(p) === PageState.OWNED;
      if (!hyp && maps.mapped(p, PageState.OWNED) === 0) continue;
      const owner = hyp ? "hyp OWNED" : `mapped OWNED by ${maps.where(p)}`;
      return finding(`pfn ${p}: ${owner} but host stage-2 ${s2Name(s.hostS2(p))} (host-accessible)`, {
        pages: [p],
        frames: maps.frames(p),
      });
    }
    return null;
  },
  checkStep(pre, step, ret) {
    const name = step.action.name;
    if (ret !== "0" || (name !== "host_read" && name !== "host_write")) return null;
    const p = step.args.pfn;
    if (!pre.w.isMemory(p) || pre.hostState(p) !== PageState.NOPAGE) return null;
    return finding(`pfn ${p}: ${name} succeeded on a host NOPAGE page held by ${privateOwner(pre, p)}`, { pages: [p] });
  },
};

export default property;
