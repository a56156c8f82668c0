// Invariant 12: what a guest wrote privately, and the hyp's metadata and page tables, never
// reach the host: pages are zeroed on their way back. State form: a page the host can get at
// (empty entry or identity map) holds no guest secret and no hyp data; this is sound because
// the model relabels a guest's data as host data when the guest shares the page (MEM_SHARE),
// and because a guest's writes to a page it borrows or shares are host data from the start.
// Step form: a host read that succeeds does not read such contents.

import { Contents, type PkvmState } from "../model/state.js";
import { checkedPages, hostAccessible, s2Name } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

const secret = (c: Contents): boolean => c === Contents.GUEST || c === Contents.HYP;

function contentsLabel(s: PkvmState, p: number): string {
  return s.contents(p) === Contents.GUEST ? `vm ${s.contentsVm(p)}'s private data` : "hyp data";
}

const property: Property = {
  id: "scrub-before-return",
  description: "guest-private and hyp data are zeroed before the host can reach the page",
  invariant: 12,
  actions: ["host_read"],
  checkState(s) {
    for (const p of checkedPages(s)) {
      if (!secret(s.contents(p)) || !hostAccessible(s, p)) continue;
      return finding(`pfn ${p}: holds ${contentsLabel(s, p)} but host stage-2 ${s2Name(s.hostS2(p))} (host-accessible)`, { pages: [p] });
    }
    return null;
  },
  checkStep(pre, step, ret) {
    if (ret !== "0" || step.action.name !== "host_read") return null;
    const p = step.args.pfn;
    if (p >= pre.w.pages || !secret(pre.contents(p))) return null;
    return finding(`pfn ${p}: host_read succeeded on a page holding ${contentsLabel(pre, p)}`, { pages: [p] });
  },
};

export default property;
