// Faults in the FF-A proxy's use of host_share_ffa (model/ffa.ts).

import type { Transition } from "../../model/actions.js";
import { makeArgs } from "../../model/args.js";
import { OK } from "../../model/errno.js";
import * as ffa from "../../model/ffa.js";
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

export const FFA_FAULTS: readonly Fault[] = [
  {
    name: "B10-ffa-share-no-rollback",
    bug: "B10",
    description: "host_share_ffa shares page by page and leaves the pages before a failing one shared",
    variant: { transitions: { host_share_ffa: shareWithoutRollback } },
  },
];
