// AG EF: the host can always get its memory back. From every reachable state some sequence of
// calls tears every VM down and leaves every RAM page that was not the hyp's at boot host OWNED
// again. A page that can never come back is a leak the host cannot undo: a slow denial of
// service (semantics 5 "Leaks").
//
// Pages the hyp took for itself (host_donate_hyp: the model's stand-in for the hyp's memcache
// and allocator refills) are exempt while the hyp owns them: pKVM hands those back through
// hyp_donate_host, which the host cannot choose (semantics 5a) and the adversary's alphabet
// leaves out, so counting them would report the model's abstraction, not pKVM.

import { PageState, VmLife, type PkvmState } from "../model/state.js";
import { annotationName, lifeName, stateName } from "./lib/pages.js";
import { finding, type AlwaysEventuallyPossible, type Finding } from "./property.js";

/** The first VM slot not torn down, or -1. */
function vmNotTornDown(s: PkvmState): number {
  for (let v = 0; v < s.w.config.vms.length; v++) if (s.vmLife(v) !== VmLife.ABSENT) return v;
  return -1;
}

/** The first RAM page, not the hyp's at boot, that is neither host OWNED nor the hyp's own; or -1. */
function pageNotBack(s: PkvmState): number {
  const { w } = s;
  for (let p = 0; p < w.pages; p++) {
    if (!w.isMemory(p) || w.config.hypPages.includes(p)) continue;
    if (s.hostState(p) !== PageState.OWNED && s.hypState(p) !== PageState.OWNED) return p;
  }
  return -1;
}

function unmet(s: PkvmState): Finding {
  const v = vmNotTornDown(s);
  if (v >= 0) return finding(`vm ${v} is ${lifeName(s.vmLife(v))}, not torn down`);
  const p = pageNotBack(s);
  const why = s.hostState(p) === PageState.NOPAGE ? ` (annotation ${annotationName(s, p)})` : "";
  return finding(`pfn ${p} is host ${stateName(s.hostState(p))}${why}${s.leaked(p) ? ", leaked by a finalized VM" : ""}, not host OWNED`, { pages: [p] });
}

const property: AlwaysEventuallyPossible = {
  kind: "always-eventually-possible",
  id: "host-can-recover-memory",
  description: "from every state the host can tear every VM down and own every RAM page again (but the hyp's own)",
  goal: (s) => vmNotTornDown(s) < 0 && pageNotBack(s) < 0,
  unmet,
};
export default property;
