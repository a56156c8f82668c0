// Faults in the kernel's bookkeeping that leave every page with one owner and every share
// consistent, so that only the property written for each sees it: share-count-bounded,
// guest-blocks-aligned, page-accounting (issue 18). No SMT twin: the encoding is to run the
// same overrides (one semantics).

import * as life from "../../model/lifecycle.js";
import * as share from "../../model/guest_share.js";
import { Pkvm } from "../../model/pkvm.js";
import type { Ret } from "../../model/errno.js";
import type { World } from "../../model/world.js";
import { defaultWith, type Fault } from "./fault.js";
import { misread, through } from "./view.js";

const NO_TWIN = "no SMT twin: the overrides are to serve both interpretations (one semantics)";

/**
 * B5, one step late: host_share_guest saturates at maxShareCount + 1, so the count passes the
 * maximum (with the kernel's maximum, a u32 wrapping to 0). Each share still has its leaf.
 */
class SaturatesLate extends Pkvm {
  constructor(w: World) {
    super(misread(w, (c) => ({ maxShareCount: c.maxShareCount + 1 })));
  }
}

/** __guest_check_transition_size() without IS_ALIGNED(phys, size): only the gfn is checked. */
class BlockPfnUnchecked extends Pkvm {
  override guestCheckTransitionSize(_pfn: number, gfn: number, nr: number): Ret {
    return super.guestCheckTransitionSize(0, gfn, nr);
  }
}

/** A memcache that holds one page: a top-up drops the page on top, which stays hyp OWNED. */
class TopupDropsPage extends Pkvm {
  override memcachePush(v: number, i: number, pfn: number): void {
    if (this.memcacheCount(v, i) > 0) this.memcachePop(v, i);
    super.memcachePush(v, i, pfn);
  }
}

/** `default` with a fourth host RAM page: room for a VM and a two-page block, or two top-ups. */
const MORE_RAM = { pages: 7, mmio: [[6, 7]], nomap: [5] };

export const ACCOUNTING_FAULTS: readonly Fault[] = [
  {
    name: "B5-share-count-saturates-late",
    bug: "B5",
    description: "host_share_guest refuses with -EBUSY one share too late: host_share_guest_count passes maxShareCount",
    variant: { transitions: { host_share_guest: through(SaturatesLate, share.host_share_guest) } },
    smtNa: NO_TWIN,
  },
  {
    name: "N4-block-share-pfn-unaligned",
    bug: "new",
    description: "host_share_guest checks a block's gfn alignment but not its pfn's: the guest maps a block leaf from an unaligned page",
    variant: { transitions: { host_share_guest: through(BlockPfnUnchecked, share.host_share_guest) } },
    config: defaultWith("default+page", MORE_RAM),
    smtNa: NO_TWIN,
  },
  {
    name: "N5-topup-memcache-drops-page",
    bug: "new",
    description: "host_topup_memcache replaces the page on top of the vCPU memcache: that page stays hyp-owned and used by nothing",
    variant: { transitions: { host_topup_memcache: through(TopupDropsPage, life.host_topup_memcache) } },
    config: defaultWith("default+page+memcache", { ...MORE_RAM, memcache: true }),
    smtNa: NO_TWIN,
  },
];
