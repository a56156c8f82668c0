// Faults in the FF-A proxy's use of host_share_ffa (model/ffa.ts).

import type { Transition } from "../../model/actions.js";
import { makeArgs } from "../../model/args.js";
import { OK } from "../../model/errno.js";
import * as ffa from "../../model/ffa.js";
import { PageState } from "../../model/state.js";
import { OK_CODE, retCode } from "../smt/flow.js";
import { SMT_TRANSITIONS, type SymTransition } from "../smt/transitions.js";
import type { N } from "../smt/z3.js";
import type { Fault } from "./fault.js";

/**
 * B10: the proxy shares a memory region piece by piece and, when a piece fails, returns the error
 * without unsharing the pieces already shared: they stay host SO for a share that never happened.
 */
const shareWithoutRollback: Transition = (k, { pfn, nr_pages }) => {
  for (let p = pfn; p < pfn + nr_pages; p++) {
    const ret = ffa.host_share_ffa(k, makeArgs({ pfn: p, nr_pages: 1 }));
    if (ret !== OK) return ret;
  }
  return OK;
};

/**
 * The loop in closed form: page p is shared when every page from pfn to p passes the one-page
 * call. The first page to fail is below the limit when any failing one is (the pages past it all
 * fail, and come last), and a one-page call fails there with -EPERM; past it, -EINVAL.
 */
const symShareWithoutRollback: SymTransition = (k, a) => {
  const { smt, L } = k;
  const { pfn, nr_pages } = a;
  const passes = (p: N) => smt.eq(SMT_TRANSITIONS.host_share_ffa(k, { ...a, pfn: p, nr_pages: smt.int(1) }).ret, OK_CODE);
  const end = smt.add(pfn, nr_pages);
  const failsBelowLimit = L.pageDom.exists(pfn, end, (p) => smt.and(smt.lt(p, L.pages), smt.not(passes(p))));
  const allPass = smt.and(smt.le(end, L.pages), L.pageDom.forall(pfn, end, passes));
  const ret = smt.ite(allPass, smt.int(OK_CODE), smt.ite(failsBelowLimit, smt.int(retCode("-EPERM")), smt.int(retCode("-EINVAL"))));
  const shared = (p: N) => smt.and(k.inRange(p, pfn, nr_pages), L.pageDom.forall(pfn, smt.add(p, 1), passes));
  const pre = k.s;
  k.setPages(shared, { host: smt.int(PageState.SHARED_OWNED), ffa: smt.T });
  const post = k.s;
  k.s = pre;
  return { ret, branches: [{ when: smt.T, post }] };
};

export const FFA_FAULTS: readonly Fault[] = [
  {
    name: "B10-ffa-share-no-rollback",
    bug: "B10",
    description: "host_share_ffa shares page by page and leaves the pages before a failing one shared",
    variant: { transitions: { host_share_ffa: shareWithoutRollback } },
    smt: { transitions: { host_share_ffa: symShareWithoutRollback } },
  },
];
