// Faults in the vCPU memcache (semantics 5b): they need `memcache: true`.

import type { Transition } from "../../model/actions.js";
import * as life from "../../model/lifecycle.js";
import { ENOMEM } from "../../model/errno.js";
import * as donate from "../../model/guest_donate.js";
import * as share from "../../model/guest_share.js";
import { Pkvm } from "../../model/pkvm.js";
import { PageState } from "../../model/state.js";
import { defaultWith, type Fault } from "./fault.js";
import { through } from "./view.js";

class OutOfMemory extends Error {}

/**
 * B7, before cada2549ca4c / 8ed0fbe54046: no memcache pre-check; the guest stage-2 map finds the
 * memcache empty when it needs a table page and fails, after the host state was changed.
 */
class MapRunsOutLate extends Pkvm {
  override memcacheBelowMin(): boolean {
    return false;
  }

  override guestStage2Map(vm: number, vcpu: number, gfn: number, pfn: number, nr: number, st: PageState, prot: number): void {
    const needsTable = nr === 1 && this.tablePfn(vm, Math.floor(gfn / this.w.config.blockPages)) < 0;
    if (needsTable && this.memcacheCount(vm, vcpu) === 0) throw new OutOfMemory();
    super.guestStage2Map(vm, vcpu, gfn, pfn, nr, st, prot);
  }
}

const failsLate = (run: Transition): Transition =>
  through(MapRunsOutLate, (k, a) => {
    try {
      return run(k, a);
    } catch (e) {
      if (e instanceof OutOfMemory) return ENOMEM;
      throw e;
    }
  });

/** B9: finalize never looks at the vCPU memcaches: their pages stay hyp-owned for good. */
class MemcacheNotDrained extends Pkvm {
  override memcacheCount(): number {
    return 0;
  }
}

const MEMCACHE = defaultWith("default+memcache", { memcache: true });

export const MEMCACHE_FAULTS: readonly Fault[] = [
  {
    name: "B7-guest-map-enomem-late",
    bug: "B7",
    description: "host_share_guest / host_donate_guest change the host state, then fail with -ENOMEM when the map needs a table page",
    variant: { transitions: { host_share_guest: failsLate(share.host_share_guest), host_donate_guest: failsLate(donate.host_donate_guest) } },
    config: MEMCACHE,
    smtNa: "the SMT encoding has no vCPU memcache (it proves configs with memcache: false)",
  },
  {
    name: "B9-finalize-keeps-memcache",
    bug: "B9",
    description: "finalize_teardown_vm does not drain the vCPU memcaches: their pages are never returned to the host",
    variant: { transitions: { finalize_teardown_vm: through(MemcacheNotDrained, life.finalize_teardown_vm) } },
    config: MEMCACHE,
    smtNa: "the SMT encoding has no vCPU memcache (it proves configs with memcache: false)",
  },
];
