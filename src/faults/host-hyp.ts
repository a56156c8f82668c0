// Faults in the host <-> hyp transitions (model/host_hyp.ts).

import * as hyp from "../../model/host_hyp.js";
import { OK, type Ret } from "../../model/errno.js";
import { Pkvm } from "../../model/pkvm.js";
import { OK_CODE } from "../smt/flow.js";
import { SymPkvm } from "../smt/kernel.js";
import type { PageUpdate } from "../smt/state.js";
import { SMT_TRANSITIONS } from "../smt/transitions.js";
import type { B, N } from "../smt/z3.js";
import type { Fault } from "./fault.js";
import { omitWrites, symThrough } from "./sym-view.js";
import { through } from "./view.js";

/**
 * B1: before "Always check the state from hyp_ack_unshare()", the completer's check was
 * compiled only into debug builds; a production hyp took any host SO page for one it borrowed.
 */
class NoHypAck extends Pkvm {
  override hypCheckPageStateRange(): Ret {
    return OK;
  }
}

class SymNoHypAck extends SymPkvm {
  override hypCheckPageStateRange(): N {
    return this.smt.int(OK_CODE);
  }
}

/** Unpinning drops the refcount but never unmaps: the hyp keeps a mapping it holds no pin for. */
class UnpinKeepsMapping extends Pkvm {
  override setHypS1Mapped(): void {}
}

class SymUnpinKeepsMapping extends SymPkvm {
  override setPages(where: (p: N) => B, set: PageUpdate): void {
    super.setPages(where, omitWrites(set, ["s1"]));
  }
}

export const HOST_HYP_FAULTS: readonly Fault[] = [
  {
    name: "B1-unshare-hyp-no-hyp-check",
    bug: "B1",
    description: "host_unshare_hyp skips the hyp-side SB check: the host takes back a page it shared with FF-A or a guest",
    variant: { transitions: { host_unshare_hyp: through(NoHypAck, hyp.host_unshare_hyp) } },
    smt: { transitions: { host_unshare_hyp: symThrough(SymNoHypAck, SMT_TRANSITIONS.host_unshare_hyp) } },
  },
  {
    name: "N1-unpin-keeps-el2-mapping",
    bug: "new",
    description: "hyp_unpin_shared_mem drops the last pin without unmapping the page from the hyp stage-1",
    variant: { transitions: { hyp_unpin_shared_mem: through(UnpinKeepsMapping, hyp.hyp_unpin_shared_mem) } },
    smt: { transitions: { hyp_unpin_shared_mem: symThrough(SymUnpinKeepsMapping, SMT_TRANSITIONS.hyp_unpin_shared_mem) } },
  },
];
