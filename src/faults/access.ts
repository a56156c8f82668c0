// Faults in the host's stage-2 fault path (model/access.ts, semantics 4).

import type { Transition } from "../../model/actions.js";
import * as access from "../../model/access.js";
import { OK, PANIC } from "../../model/errno.js";
import { Pkvm } from "../../model/pkvm.js";
import { PROT_RWX, S2 } from "../../model/state.js";
import { OK_CODE, type Outcome } from "../smt/flow.js";
import { SymPkvm } from "../smt/kernel.js";
import { SMT_TRANSITIONS, type SymTransition } from "../smt/transitions.js";
import type { N } from "../smt/z3.js";
import type { Fault } from "./fault.js";
import { panicsWhen, symThrough } from "./sym-view.js";
import { through } from "./view.js";

/** B11: the fault path does not see annotations: it identity-maps whatever faulted. */
class AnnotationsLookEmpty extends Pkvm {
  override hostS2(p: number): S2 {
    const e = super.hostS2(p);
    return e === S2.ANNOTATION ? S2.EMPTY : e;
  }
}

class SymAnnotationsLookEmpty extends SymPkvm {
  override hostS2(p: N): N {
    const { smt } = this;
    const e = super.hostS2(p);
    return smt.ite(smt.eq(e, S2.ANNOTATION), smt.int(S2.EMPTY), e);
  }
}

/** B11, before v7.1: a host access to an annotated page panics the hypervisor. */
const panicsOnAnnotation =
  (run: Transition): Transition =>
  (k, a) =>
    a.pfn < k.w.pages && k.hostS2(a.pfn) === S2.ANNOTATION ? PANIC : run(k, a);

const symPanicsOnAnnotation = (run: SymTransition): SymTransition =>
  panicsWhen((k, { pfn }) => k.smt.and(k.smt.lt(pfn, k.L.pages), k.smt.eq(k.hostS2(pfn), S2.ANNOTATION)), run);

/**
 * B12: host_stage2_idmap() maps the whole aligned block around a faulting page, annotated pages
 * of the block included, where it must fall back to smaller mappings.
 */
const mapsBlock =
  (run: Transition): Transition =>
  (k, a) => {
    const { pfn } = a;
    const faults = pfn < k.w.pages && k.hostS2(pfn) === S2.EMPTY && k.w.isMemory(pfn);
    const ret = run(k, a);
    if (ret !== OK || !faults) return ret;
    const start = pfn - (pfn % k.w.config.blockPages);
    const end = Math.min(start + k.w.config.blockPages, k.w.pages);
    for (let p = start; p < end; p++) if (k.w.segOf(p) === k.w.segOf(pfn)) k.setHostS2Idmap(p, PROT_RWX);
    return ret;
  };

const symMapsBlock =
  (run: SymTransition): SymTransition =>
  (k, a): Outcome => {
    const { smt, L } = k;
    const { pfn } = a;
    const faults = smt.and(smt.lt(pfn, L.pages), smt.eq(k.hostS2(pfn), S2.EMPTY), L.isMemory(pfn));
    const o = run(k, a);
    const start = smt.sub(pfn, smt.mod(pfn, L.blockPages));
    const inBlock = (p: N) => smt.and(k.inRange(p, start, L.blockPages), smt.lt(p, L.pages), smt.eq(L.segOf(p), L.segOf(pfn)));
    const ok = smt.eq(o.ret, OK_CODE);
    return {
      ret: o.ret,
      branches: o.branches.flatMap((b) => {
        const after = new SymPkvm(L, b.post);
        after.setPages(inBlock, after.idmap(PROT_RWX));
        return [
          { when: smt.and(b.when, ok, faults), post: after.s },
          { when: smt.and(b.when, smt.not(smt.and(ok, faults))), post: b.post },
        ];
      }),
    };
  };

export const ACCESS_FAULTS: readonly Fault[] = [
  {
    name: "B11-host-fault-maps-annotation",
    bug: "B11",
    description: "a host access to an annotated (hyp- or guest-owned) page is faulted in like an empty entry",
    variant: {
      transitions: { host_read: through(AnnotationsLookEmpty, access.host_read), host_write: through(AnnotationsLookEmpty, access.host_write) },
    },
    smt: {
      transitions: {
        host_read: symThrough(SymAnnotationsLookEmpty, SMT_TRANSITIONS.host_read),
        host_write: symThrough(SymAnnotationsLookEmpty, SMT_TRANSITIONS.host_write),
      },
    },
  },
  {
    name: "B11-host-fault-panics",
    bug: "B11",
    description: "a host access to an annotated page panics the hypervisor instead of injecting an abort (kernels before v7.1)",
    variant: { transitions: { host_read: panicsOnAnnotation(access.host_read), host_write: panicsOnAnnotation(access.host_write) } },
    smt: { transitions: { host_read: symPanicsOnAnnotation(SMT_TRANSITIONS.host_read), host_write: symPanicsOnAnnotation(SMT_TRANSITIONS.host_write) } },
  },
  {
    name: "B12-host-block-covers-annotation",
    bug: "B12",
    description: "a host fault maps the whole aligned block around the page, over the annotations of hyp or guest pages in it",
    variant: { transitions: { host_read: mapsBlock(access.host_read), host_write: mapsBlock(access.host_write) } },
    smt: { transitions: { host_read: symMapsBlock(SMT_TRANSITIONS.host_read), host_write: symMapsBlock(SMT_TRANSITIONS.host_write) } },
  },
];
