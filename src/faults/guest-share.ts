// Faults in sharing host pages with non-protected guests (model/guest_share.ts).

import { PANIC } from "../../model/errno.js";
import * as share from "../../model/guest_share.js";
import { Pkvm } from "../../model/pkvm.js";
import { PageState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import type { Ret } from "../../model/errno.js";
import { SymPkvm } from "../smt/kernel.js";
import type { Layout } from "../smt/layout.js";
import type { PageUpdate, SymState } from "../smt/state.js";
import { SMT_TRANSITIONS } from "../smt/transitions.js";
import type { B, N } from "../smt/z3.js";
import type { Fault } from "./fault.js";
import { omitWrites, symThrough } from "./sym-view.js";
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

/** The count rises by one from at most the maximum: wrapping is dropping to 0 past it. */
class SymWrappingShareCount extends SymPkvm {
  private readonly max: N;

  constructor(L: Layout, s: SymState) {
    super({ ...L, maxShareCount: L.smt.int(Number.MAX_SAFE_INTEGER) }, s);
    this.max = L.maxShareCount;
  }

  override setPages(where: (p: N) => B, set: PageUpdate): void {
    const { smt } = this;
    const cnt = set.cnt;
    if (cnt === undefined) return super.setPages(where, set);
    const at = (p: N) => (typeof cnt === "function" ? cnt(p) : cnt);
    super.setPages(where, { ...set, cnt: (p) => smt.ite(smt.gt(at(p), this.max), smt.int(0), at(p)) });
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

/**
 * The WARN_ON stated where it fires: host_share_guest's page loop meets such a page before any
 * other failing one. The page then reads NOPAGE, as in the concrete twin.
 */
class SymWarnsOnSharedElsewhere extends SymPkvm {
  private sharedElsewhere(p: N): B {
    const { smt } = this;
    return smt.and(smt.eq(super.hostState(p), SHARED_OWNED), smt.eq(this.hostShareGuestCount(p), 0));
  }

  override hostState(p: N): N {
    return this.smt.ite(this.sharedElsewhere(p), this.smt.int(NOPAGE), super.hostState(p));
  }

  override firstFailingPage(pfn: N, nr: N | number, checks: [fails: (p: N) => B, r: Ret][]): N {
    return super.firstFailingPage(pfn, nr, [[(p) => this.sharedElsewhere(p), PANIC], ...checks]);
  }
}

/** B6, the check missing: the host-side check takes such a page for one the host owns. */
class AcceptsSharedElsewhere extends Pkvm {
  override hostState(p: number): PageState {
    const st = super.hostState(p);
    return sharedElsewhere(this, p, st) ? OWNED : st;
  }
}

class SymAcceptsSharedElsewhere extends SymPkvm {
  override hostState(p: N): N {
    const { smt } = this;
    const st = super.hostState(p);
    return smt.ite(smt.and(smt.eq(st, SHARED_OWNED), smt.eq(this.hostShareGuestCount(p), 0)), smt.int(OWNED), st);
  }
}

/** B12: the handlers take every VM for a non-protected one. */
class NoVmTypeCheck extends Pkvm {
  constructor(w: World) {
    super(misread(w, (c) => ({ vms: c.vms.map((v) => ({ ...v, protected: false })) })));
  }
}

class SymNoVmTypeCheck extends SymPkvm {
  override isProtected(): B {
    return this.smt.F;
  }
}

/** Unsharing unmaps the guest but never drops host_share_guest_count. */
class KeepsShareCount extends Pkvm {
  override setHostShareGuestCount(): void {}
}

/**
 * The encoding sets the host state from the count before its decrement (count 1: OWNED); a count
 * that never drops never reaches 0, so the host state's write goes with the count's.
 */
class SymKeepsShareCount extends SymPkvm {
  override setPages(where: (p: N) => B, set: PageUpdate): void {
    super.setPages(where, omitWrites(set, ["cnt", "host"]));
  }
}

export const GUEST_SHARE_FAULTS: readonly Fault[] = [
  {
    name: "B5-share-count-wraps",
    bug: "B5",
    description: "host_share_guest has no -EBUSY at the maximum share count, which wraps to 0 while guests still map the page",
    variant: { transitions: { host_share_guest: through(WrappingShareCount, share.host_share_guest) } },
    smt: { transitions: { host_share_guest: symThrough(SymWrappingShareCount, SMT_TRANSITIONS.host_share_guest) } },
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
    smt: { transitions: { host_share_guest: symThrough(SymWarnsOnSharedElsewhere, SMT_TRANSITIONS.host_share_guest) } },
  },
  {
    name: "B6-share-guest-accepts-shared",
    bug: "B6",
    description: "host_share_guest accepts a page already shared with hyp or FF-A (SO, share count 0): two sharers at once",
    variant: { transitions: { host_share_guest: through(AcceptsSharedElsewhere, share.host_share_guest) } },
    smt: { transitions: { host_share_guest: symThrough(SymAcceptsSharedElsewhere, SMT_TRANSITIONS.host_share_guest) } },
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
    smt: {
      transitions: {
        host_relax_perms_guest: symThrough(SymNoVmTypeCheck, SMT_TRANSITIONS.host_relax_perms_guest),
        host_wrprotect_guest: symThrough(SymNoVmTypeCheck, SMT_TRANSITIONS.host_wrprotect_guest),
      },
    },
  },
  {
    name: "N2-unshare-guest-keeps-count",
    bug: "new",
    description: "host_unshare_guest unmaps the guest but leaves host_share_guest_count as it was: the page stays host SO",
    variant: { transitions: { host_unshare_guest: through(KeepsShareCount, share.host_unshare_guest) } },
    smt: { transitions: { host_unshare_guest: symThrough(SymKeepsShareCount, SMT_TRANSITIONS.host_unshare_guest) } },
  },
];
