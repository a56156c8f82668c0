// Faults in the host's stage-2 fault path (model/access.ts, semantics 4).

import type { Transition } from "../../model/actions.js";
import * as access from "../../model/access.js";
import { OK, PANIC } from "../../model/errno.js";
import { Pkvm } from "../../model/pkvm.js";
import { PROT_RWX, S2 } from "../../model/state.js";
import type { Fault } from "./fault.js";
import { through } from "./view.js";

/** B11: the fault path does not see annotations: it identity-maps whatever faulted. */
class AnnotationsLookEmpty extends Pkvm {
  override hostS2(p: number): S2 {
    const e = super.hostS2(p);
    return e === S2.ANNOTATION ? S2.EMPTY : e;
  }
}

/** B11, before v7.1: a host access to an annotated page panics the hypervisor. */
const panicsOnAnnotation =
  (run: Transition): Transition =>
  (k, a) =>
    a.pfn < k.w.pages && k.hostS2(a.pfn) === S2.ANNOTATION ? PANIC : run(k, a);

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

export const ACCESS_FAULTS: readonly Fault[] = [
  {
    name: "B11-host-fault-maps-annotation",
    bug: "B11",
    description: "a host access to an annotated (hyp- or guest-owned) page is faulted in like an empty entry",
    variant: {
      transitions: { host_read: through(AnnotationsLookEmpty, access.host_read), host_write: through(AnnotationsLookEmpty, access.host_write) },
    },
  },
  {
    name: "B11-host-fault-panics",
    bug: "B11",
    description: "a host access to an annotated page panics the hypervisor instead of injecting an abort (kernels before v7.1)",
    variant: { transitions: { host_read: panicsOnAnnotation(access.host_read), host_write: panicsOnAnnotation(access.host_write) } },
  },
  {
    name: "B12-host-block-covers-annotation",
    bug: "B12",
    description: "a host fault maps the whole aligned block around the page, over the annotations of hyp or guest pages in it",
    variant: { transitions: { host_read: mapsBlock(access.host_read), host_write: mapsBlock(access.host_write) } },
  },
];
