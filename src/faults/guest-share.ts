// Faults in sharing host pages with non-protected guests (model/guest_share.ts).

import { PANIC } from "../../model/errno.js";
import * as share from "../../model/guest_share.js";
import { Pkvm } from "../../model/pkvm.js";
import { PageState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import type { Fault } from "./fault.js";
import { misread, through } from "./view.js";

const { OWNED, SHARED_OWNED, NOPAGE } = PageState;

/**
 * B5: host_share_guest_count as a plain u32: no -EBUSY at the maximum, and the increment wraps.
 * The check compares with a maximum the counter never reaches; the counter wraps at the world's.
 */
class WrappingShareCount extends Pkvm {
  private readonly wrapAt: number;

  constructor(w: World) {
    super(misread(w, () => ({ maxShareCount: Number.MAX_SAFE_INTEGER })));
    this.wrapAt = w.config.maxShareCount + 1;
  }

  override setHostShareGuestCount(p: number, n: number): void {
    super.setHostShareGuestCount(p, n % this.wrapAt);
  }
}

/** A host SO page with no guest share count is shared with hyp or FF-A. */
function sharedElsewhere(k: Pkvm, p: number, st: PageState): boolean {
  return st === SHARED_OWNED && k.hostShareGuestCount(p) === 0;
}

/** B6, as before 845f126732a8: such a page is refused, but through a host-reachable WARN_ON(1). */
class WarnsOnSharedElsewhere extends Pkvm {
  warned = false;

  override hostState(p: number): PageState {
    const st = super.hostState(p);
    if (!sharedElsewhere(this, p, st)) return st;
    this.warned = true;
    return NOPAGE; // then -EPERM, the WARN_ON's fallthrough
  }
}

/** B6, the check missing: the host-side check takes such a page for one the host owns. */
class AcceptsSharedElsewhere extends Pkvm {
  override hostState(p: number): PageState {
    const st = super.hostState(p);
    return sharedElsewhere(this, p, st) ? OWNED : st;
  }
}

/** B12: the handlers take every VM for a non-protected one. */
class NoVmTypeCheck extends Pkvm {
  constructor(w: World) {
    super(misread(w, (c) => ({ vms: c.vms.map((v) => ({ ...v, protected: false })) })));
  }
}

/** Unsharing unmaps the guest but never drops host_share_guest_count. */
class KeepsShareCount extends Pkvm {
  override setHostShareGuestCount(): void {}
}

export const GUEST_SHARE_FAULTS: readonly Fault[] = [
  {
    name: "B5-share-count-wraps",
    bug: "B5",
    description: "host_share_guest has no -EBUSY at the maximum share count, which wraps to 0 while guests still map the page",
    variant: { transitions: { host_share_guest: through(WrappingShareCount, share.host_share_guest) } },
  },
  {
    name: "B6-share-guest-warns",
    bug: "B6",
    description: "host_share_guest of a page shared with hyp or FF-A (SO, share count 0) hits a WARN_ON: a host-triggered hyp panic",
    variant: {
      transitions: {
        host_share_guest: through(WarnsOnSharedElsewhere, (k, a) => {
          k.warned = false;
          const ret = share.host_share_guest(k, a);
          return k.warned ? PANIC : ret;
        }),
      },
    },
  },
  {
    name: "B6-share-guest-accepts-shared",
    bug: "B6",
    description: "host_share_guest accepts a page already shared with hyp or FF-A (SO, share count 0): two sharers at once",
    variant: { transitions: { host_share_guest: through(AcceptsSharedElsewhere, share.host_share_guest) } },
  },
  {
    name: "B12-perms-protected-vm",
    bug: "B12",
    description: "host_relax_perms_guest and host_wrprotect_guest accept a protected VM: the host edits its stage-2",
    variant: {
      transitions: {
        host_relax_perms_guest: through(NoVmTypeCheck, share.host_relax_perms_guest),
        host_wrprotect_guest: through(NoVmTypeCheck, share.host_wrprotect_guest),
      },
    },
  },
  {
    name: "N2-unshare-guest-keeps-count",
    bug: "new",
    description: "host_unshare_guest unmaps the guest but leaves host_share_guest_count as it was: the page stays host SO",
    variant: { transitions: { host_unshare_guest: through(KeepsShareCount, share.host_unshare_guest) } },
  },
];
