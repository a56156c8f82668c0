// Faults in donating pages to protected guests and taking them back (model/guest_donate.ts).

import type { Ret } from "../../model/errno.js";
import * as donate from "../../model/guest_donate.js";
import { Pkvm } from "../../model/pkvm.js";
import { Owner, VmLife } from "../../model/state.js";
import { SymPkvm } from "../smt/kernel.js";
import type { PageUpdate } from "../smt/state.js";
import { SMT_TRANSITIONS } from "../smt/transitions.js";
import type { B, N } from "../smt/z3.js";
import { defaultWith, type Fault } from "./fault.js";
import { omitWrites, symThrough } from "./sym-view.js";
import { through } from "./view.js";

/** B12: the page goes back to the host as the guest left it. */
class NoScrub extends Pkvm {
  override zeroPage(): void {}
}

/** The reclaim paths write a page's contents label only to scrub it. */
class SymNoScrub extends SymPkvm {
  override setPages(where: (p: N) => B, set: PageUpdate): void {
    super.setPages(where, omitWrites(set, ["contents", "contentsVm"]));
  }
}

/** B12: only the walk is checked, not that the gfn is free (NOPAGE). */
class NoGuestStateCheck extends Pkvm {
  override guestCheckPageStateRange(vm: number, gfn: number, nr: number): Ret {
    return this.guestWalkRange(vm, gfn, nr);
  }
}

class SymNoGuestStateCheck extends SymPkvm {
  override guestCheckPageStateRange(vm: number, gfn: N, nr: N | number): N {
    return this.guestWalkRange(vm, gfn, nr);
  }
}

/** B12: the dying check lets a live VM through. */
class LiveCountsAsDying extends Pkvm {
  override vmLife(v: number): VmLife {
    const life = super.vmLife(v);
    return life === VmLife.LIVE ? VmLife.DYING : life;
  }
}

class SymLiveCountsAsDying extends SymPkvm {
  override vmLife(v: number): N {
    const { smt } = this;
    const life = super.vmLife(v);
    return smt.ite(smt.eq(life, VmLife.LIVE), smt.int(VmLife.DYING), life);
  }
}

/** B12: no check that the annotation names a guest: a hyp annotation is decoded as one. */
class EveryAnnotationNamesAGuest extends Pkvm {
  override annotationOwner(): Owner {
    return Owner.GUEST;
  }
}

class SymEveryAnnotationNamesAGuest extends SymPkvm {
  override annotationOwner(): N {
    return this.smt.int(Owner.GUEST);
  }
}

/** MEM_UNSHARE gives the guest its page back without annotating the host stage-2. */
class NoGuestAnnotation extends Pkvm {
  override hostStage2SetOwnerGuest(): void {}
}

/** The encoding writes the guest's annotation as part of one page update. */
class SymNoGuestAnnotation extends SymPkvm {
  override annotation(owner: Owner, vm: N, gfn: N): PageUpdate {
    return owner === Owner.GUEST ? {} : super.annotation(owner, vm, gfn);
  }
}

export const GUEST_DONATE_FAULTS: readonly Fault[] = [
  {
    name: "B12-donate-guest-present-gfn",
    bug: "B12",
    description: "host_donate_guest does not check that the gfn is unmapped: a second page replaces the first, which no one owns any more",
    variant: { transitions: { host_donate_guest: through(NoGuestStateCheck, donate.host_donate_guest) } },
    smt: { transitions: { host_donate_guest: symThrough(SymNoGuestStateCheck, SMT_TRANSITIONS.host_donate_guest) } },
    // A protected VM takes two host pages to set up: two more are needed to donate twice.
    config: defaultWith("default+page", { pages: 7, mmio: [[6, 7]], nomap: [5] }),
  },
  {
    name: "B12-reclaim-no-zero",
    bug: "B12",
    description: "host_reclaim_page_guest returns a guest-owned page to the host without zeroing it",
    variant: { transitions: { host_reclaim_page_guest: through(NoScrub, donate.host_reclaim_page_guest) } },
    smt: { transitions: { host_reclaim_page_guest: symThrough(SymNoScrub, SMT_TRANSITIONS.host_reclaim_page_guest) } },
  },
  {
    name: "B12-force-reclaim-no-zero",
    bug: "B12",
    description: "host_force_reclaim_page_guest returns a live guest's page to the host without zeroing it",
    variant: { transitions: { host_force_reclaim_page_guest: through(NoScrub, donate.host_force_reclaim_page_guest) } },
    smt: { transitions: { host_force_reclaim_page_guest: symThrough(SymNoScrub, SMT_TRANSITIONS.host_force_reclaim_page_guest) } },
  },
  {
    name: "B12-reclaim-live-vm",
    bug: "B12",
    description: "host_reclaim_page_guest does not require the VM to be dying: the host pulls pages from under a running guest",
    variant: { transitions: { host_reclaim_page_guest: through(LiveCountsAsDying, donate.host_reclaim_page_guest) } },
    smt: { transitions: { host_reclaim_page_guest: symThrough(SymLiveCountsAsDying, SMT_TRANSITIONS.host_reclaim_page_guest) } },
  },
  {
    name: "B12-force-reclaim-hyp-page",
    bug: "B12",
    description: "host_force_reclaim_page_guest does not check that the annotation names a guest: on a hyp page it hits the WARN_ON",
    variant: { transitions: { host_force_reclaim_page_guest: through(EveryAnnotationNamesAGuest, donate.host_force_reclaim_page_guest) } },
    smt: { transitions: { host_force_reclaim_page_guest: symThrough(SymEveryAnnotationNamesAGuest, SMT_TRANSITIONS.host_force_reclaim_page_guest) } },
  },
  {
    name: "N3-guest-unshare-keeps-host-mapping",
    bug: "new",
    description: "guest_unshare_host takes the page back for the guest but leaves the host's identity map in place",
    variant: { transitions: { guest_unshare_host: through(NoGuestAnnotation, donate.guest_unshare_host) } },
    smt: { transitions: { guest_unshare_host: symThrough(SymNoGuestAnnotation, SMT_TRANSITIONS.guest_unshare_host) } },
  },
];
