// Faults in the VM lifecycle (model/lifecycle.ts).

import * as life from "../../model/lifecycle.js";
import { Pkvm } from "../../model/pkvm.js";
import { PageState } from "../../model/state.js";
import { SymPkvm } from "../smt/kernel.js";
import type { PageUpdate } from "../smt/state.js";
import { SMT_TRANSITIONS } from "../smt/transitions.js";
import type { B, N } from "../smt/z3.js";
import type { Fault } from "./fault.js";
import { omitWrites, symThrough } from "./sym-view.js";
import { through } from "./view.js";

/**
 * B8, before 20d2753295b1 / 5c30c9fc117c: init_vm's error path hands the donated page back while
 * the hyp still holds it; hyp_donate_host had no refcount check to refuse. The hyp half of the
 * hand-back (hyp NOPAGE, unmapped) never happens.
 */
class HandsBackHeldPage extends Pkvm {
  override setHypStateRange(pfn: number, nr: number, st: PageState): void {
    if (st !== PageState.NOPAGE) super.setHypStateRange(pfn, nr, st);
  }

  override setHypS1Mapped(p: number, on: boolean): void {
    if (on) super.setHypS1Mapped(p, on);
  }
}

/** The error path's writes of hyp NOPAGE and unmapped are the hand-back's hyp half. */
class SymHandsBackHeldPage extends SymPkvm {
  override setPages(where: (p: N) => B, set: PageUpdate): void {
    const { smt } = this;
    const handBack = (v: PageUpdate[keyof PageUpdate]) =>
      typeof v !== "function" && (smt.Z.isBool(v) ? smt.lit(v as B) === false : smt.num(v as N) === PageState.NOPAGE);
    super.setPages(where, omitWrites(set, ["hyp", "s1"], handBack));
  }
}

/** B12: get_pkvm_unref_hyp_vm_locked() without the reference check: a loaded vCPU does not count. */
class LoadedVcpuIgnored extends Pkvm {
  override loadedVm(): number {
    return -1;
  }
}

class SymLoadedVcpuIgnored extends SymPkvm {
  override loadedVm(): N {
    return this.smt.int(-1);
  }
}

export const LIFECYCLE_FAULTS: readonly Fault[] = [
  {
    name: "B8-init-vm-error-returns-held-page",
    bug: "B8",
    description: "init_vm's error path returns the donated page to the host while the hyp still owns and maps it",
    variant: { transitions: { init_vm: through(HandsBackHeldPage, life.init_vm) } },
    smt: { transitions: { init_vm: symThrough(SymHandsBackHeldPage, SMT_TRANSITIONS.init_vm) } },
  },
  {
    name: "B12-teardown-loaded-vcpu",
    bug: "B12",
    description: "start_teardown_vm accepts a VM whose vCPU is loaded: a dying VM keeps running",
    variant: { transitions: { start_teardown_vm: through(LoadedVcpuIgnored, life.start_teardown_vm) } },
    smt: { transitions: { start_teardown_vm: symThrough(SymLoadedVcpuIgnored, SMT_TRANSITIONS.start_teardown_vm) } },
  },
];
