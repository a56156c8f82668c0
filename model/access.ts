// Memory accesses. The host reaches memory through its stage-2 (handle_host_mem_abort ->
// host_stage2_idmap): an empty entry is faulted in as an identity map, an annotation aborts.
// The fault path never looks at page state. Guests reach memory through their own stage-2.

import type { Args } from "./args.js";
import { EFAULT, OK, type Ret } from "./errno.js";
import { guestVcpu } from "./handlers.js";
import type { Pkvm } from "./pkvm.js";
import { Contents, GuestEntry, PageState, PROT_R, PROT_RWX, PROT_W, S2 } from "./state.js";

const MMIO_PROT = PROT_R | PROT_W;

/** A host access: "0" when performed (faulting in an idmap where allowed), "-EFAULT" when aborted. */
function hostAccess(k: Pkvm, pfn: number): Ret {
  if (pfn >= k.w.pages) return EFAULT;
  const e = k.hostS2(pfn);
  if (e === S2.ANNOTATION) return EFAULT; // host_stage2_idmap -EPERM: an abort is injected
  if (e === S2.EMPTY) k.setHostS2Idmap(pfn, k.w.isMemory(pfn) ? PROT_RWX : MMIO_PROT);
  return OK;
}

export function host_read(k: Pkvm, { pfn }: Args): Ret {
  return hostAccess(k, pfn);
}

export function host_write(k: Pkvm, { pfn }: Args): Ret {
  const ret = hostAccess(k, pfn);
  if (ret === OK && k.w.isMemory(pfn)) k.setContents(pfn, Contents.HOST);
  return ret;
}

/** A guest access through its stage-2; prot and POISON are honoured. */
function guestAccess(k: Pkvm, vm: number, gfn: number, need: number): Ret {
  if (guestVcpu(k, vm) < 0 || gfn >= k.w.config.vms[vm].gfns) return EFAULT;
  if (k.guestEntry(vm, gfn) !== GuestEntry.MAPPED) return EFAULT;
  if ((k.guestProt(vm, gfn) & need) !== need) return EFAULT;
  return OK;
}

export function guest_read(k: Pkvm, { vm, gfn }: Args): Ret {
  return guestAccess(k, vm, gfn, PROT_R);
}

/** Data written into a private page is the guest's secret; into a shared one, it is not. */
export function guest_write(k: Pkvm, { vm, gfn }: Args): Ret {
  const ret = guestAccess(k, vm, gfn, PROT_W);
  if (ret !== OK) return ret;
  const pfn = k.guestPfn(vm, gfn);
  if (k.guestState(vm, gfn) === PageState.OWNED) k.setContents(pfn, Contents.GUEST, vm);
  else k.setContents(pfn, Contents.HOST);
  return OK;
}
