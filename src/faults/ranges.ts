// Faults in the range checks (semantics section 2): whole-kernel variants, since every
// transition that takes a host range goes through the same helpers.

import { EPERM, OK, type Ret } from "../../model/errno.js";
import { Pkvm } from "../../model/pkvm.js";
import { PageState } from "../../model/state.js";
import { SegKind } from "../../model/world.js";
import { OK_CODE, retCode } from "../smt/flow.js";
import { SymPkvm } from "../smt/kernel.js";
import type { N } from "../smt/z3.js";
import { defaultWith, type Fault } from "./fault.js";

/** B2: range_is_memory() in place of check_range_allowed_memory(): a NOMAP region is memory too. */
class NomapAllowed extends Pkvm {
  override checkRangeAllowedMemory(pfn: number, nr: number): Ret {
    const ret = super.checkRangeAllowedMemory(pfn, nr);
    return ret === EPERM && this.w.segKind[this.w.segOf(pfn)] === SegKind.NOMAP ? OK : ret;
  }
}

class SymNomapAllowed extends SymPkvm {
  override checkRangeAllowedMemory(pfn: N, nr: N | number): N {
    const { smt, L } = this;
    const ret = super.checkRangeAllowedMemory(pfn, nr);
    const nomap = smt.and(smt.eq(ret, retCode("-EPERM")), smt.eq(L.segKind(L.segOf(pfn)), SegKind.NOMAP));
    return smt.ite(nomap, smt.int(OK_CODE), ret);
  }
}

/**
 * B4: only the range's first page is looked up in the memblock list. The host state of the rest
 * comes from the host stage-2, as in the kernels that had the bug, where an MMIO page's empty or
 * identity-mapped entry decodes as OWNED.
 */
class FirstPageOnly extends Pkvm {
  override checkRangeAllowedMemory(pfn: number): Ret {
    return super.checkRangeAllowedMemory(pfn, 1);
  }

  override hostState(p: number): PageState {
    if (p >= this.w.pages) return PageState.NOPAGE; // past the PA limit the walk fails
    return this.w.isMemory(p) ? super.hostState(p) : PageState.OWNED;
  }
}

class SymFirstPageOnly extends SymPkvm {
  override checkRangeAllowedMemory(pfn: N): N {
    return super.checkRangeAllowedMemory(pfn, 1);
  }

  override hostState(p: N): N {
    const { smt, L } = this;
    return smt.cond(
      [
        [smt.ge(p, L.pages), smt.int(PageState.NOPAGE)],
        [L.isMemory(p), super.hostState(p)],
      ],
      smt.int(PageState.OWNED),
    );
  }
}

export const RANGE_FAULTS: readonly Fault[] = [
  {
    name: "B2-nomap-allowed",
    bug: "B2",
    description: "the allowed-memory check accepts MEMBLOCK_NOMAP regions: firmware-reserved pages can be donated or shared",
    variant: { kernel: NomapAllowed },
    smt: { kernel: SymNomapAllowed },
  },
  {
    name: "B4-range-checked-at-first-page",
    bug: "B4",
    description: "the allowed-memory check looks at the first page only: a range running from RAM into MMIO is donated whole",
    variant: { kernel: FirstPageOnly },
    smt: { kernel: SymFirstPageOnly },
    // `default` has a NOMAP page between RAM and MMIO; here RAM runs straight into MMIO.
    config: defaultWith("default-ram-then-mmio", { mmio: [[4, 6]], nomap: [] }),
  },
];
