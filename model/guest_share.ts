// Host <-> non-protected guest: __pkvm_host_share_guest, __pkvm_host_unshare_guest and the
// permission / access-flag calls on the pages shared that way. A shared page stays host SO; the
// guest borrows it, and host_share_guest_count counts the guest mappings.

import type { Args } from "./args.js";
import { E2BIG, EAGAIN, EBUSY, EINVAL, ENOENT, ENOMEM, EPERM, OK, PANIC, type Ret } from "./errno.js";
import { loadedVcpuOf, npVmByHandle } from "./handlers.js";
import type { Pkvm } from "./pkvm.js";
import { GuestEntry, PageState, PROT_RWX, PROT_W } from "./state.js";

const { OWNED, SHARED_OWNED, SHARED_BORROWED, NOPAGE } = PageState;

/** __pkvm_host_share_guest(pfn, gfn, nr_pages, vcpu, prot) */
export function host_share_guest(k: Pkvm, { vm, pfn, gfn, nr_pages, prot }: Args): Ret {
  const vcpu = loadedVcpuOf(k, vm, false);
  if (vcpu < 0) return EINVAL;
  if (prot & ~PROT_RWX) return EINVAL;
  if (!k.pfnRangeIsValid(pfn, nr_pages)) return EINVAL;
  let ret = k.guestCheckTransitionSize(pfn, gfn, nr_pages);
  if (ret !== OK) return ret;
  ret = k.checkRangeAllowedMemory(pfn, nr_pages);
  if (ret !== OK) return ret;
  ret = k.guestCheckPageStateRange(vm, gfn, nr_pages, NOPAGE);
  if (ret !== OK) return ret;
  for (let p = pfn; p < pfn + nr_pages; p++) {
    const st = k.hostState(p);
    if (st === OWNED) continue;
    if (st === SHARED_OWNED) {
      if (k.hostShareGuestCount(p) === k.w.config.maxShareCount) return EBUSY;
      if (k.hostShareGuestCount(p) > 0) continue; // only host -> np-guest multi-sharing
    }
    return EPERM;
  }
  if (k.memcacheBelowMin(vm, vcpu)) return ENOMEM;

  for (let p = pfn; p < pfn + nr_pages; p++) {
    k.setHostState(p, SHARED_OWNED);
    k.setHostShareGuestCount(p, k.hostShareGuestCount(p) + 1);
  }
  k.guestStage2Map(vm, vcpu, gfn, pfn, nr_pages, SHARED_BORROWED, prot);
  return OK;
}

/**
 * __check_host_shared_guest(): the leaf at gfn must be a valid leaf of exactly nr_pages, borrowed
 * by the guest from a host SO page. Returns the leaf's pfn, or an errno.
 */
function checkHostSharedGuest(k: Pkvm, vm: number, gfn: number, nr_pages: number): number | Ret {
  const ret = k.guestWalkRange(vm, gfn, 1);
  if (ret !== OK) return ret;
  if (k.guestEntry(vm, gfn) !== GuestEntry.MAPPED) return ENOENT;
  if ((k.guestBlock(vm, gfn) ? k.w.config.blockPages : 1) !== nr_pages) return E2BIG;
  if (k.guestState(vm, gfn) !== SHARED_BORROWED) return EPERM;
  const pfn = k.guestPfn(vm, gfn);
  for (let p = pfn; p < pfn + nr_pages; p++) {
    if (k.hostState(p) !== SHARED_OWNED) return EPERM;
    if (k.hostShareGuestCount(p) === 0) return PANIC; // WARN_ON(!page->host_share_guest_count)
  }
  return pfn;
}

/** __pkvm_host_unshare_guest(gfn, nr_pages, vm) */
export function host_unshare_guest(k: Pkvm, { vm, gfn, nr_pages }: Args): Ret {
  if (!npVmByHandle(k, vm)) return EINVAL;
  const ret = k.guestCheckTransitionSize(0, gfn, nr_pages);
  if (ret !== OK) return ret;
  const pfn = checkHostSharedGuest(k, vm, gfn, nr_pages);
  if (typeof pfn !== "number") return pfn;

  for (let i = 0; i < nr_pages; i++) k.clearGuestEntry(vm, gfn + i);
  for (let p = pfn; p < pfn + nr_pages; p++) {
    k.setHostShareGuestCount(p, k.hostShareGuestCount(p) - 1);
    if (k.hostShareGuestCount(p) === 0) k.setHostState(p, OWNED);
  }
  return OK;
}

/** The gfns of the leaf that maps gfn: an attribute walk changes a block leaf as a whole. */
function forEachLeafGfn(k: Pkvm, vm: number, gfn: number, fn: (g: number) => void): void {
  if (!k.guestBlock(vm, gfn)) return fn(gfn);
  const b = k.w.config.blockPages;
  const start = gfn - (gfn % b);
  for (let g = start; g < start + b; g++) fn(g);
}

/** __pkvm_host_relax_perms_guest(gfn, vcpu, prot): only ever adds permissions. */
export function host_relax_perms_guest(k: Pkvm, { vm, gfn, prot }: Args): Ret {
  if (loadedVcpuOf(k, vm, false) < 0) return EINVAL;
  if (prot & ~PROT_RWX) return EINVAL;
  const ret = k.guestWalkRange(vm, gfn, 1);
  if (ret !== OK) return ret;
  // kvm_pgtable_stage2_relax_perms() without KVM_PGTABLE_WALK_IGNORE_EAGAIN.
  if (k.guestEntry(vm, gfn) !== GuestEntry.MAPPED) return EAGAIN;

  forEachLeafGfn(k, vm, gfn, (g) => k.setGuestProt(vm, g, k.guestProt(vm, g) | prot));
  return OK;
}

/** __pkvm_host_wrprotect_guest(gfn, nr_pages, vm): invalid leaves are skipped. */
export function host_wrprotect_guest(k: Pkvm, { vm, gfn, nr_pages }: Args): Ret {
  if (!npVmByHandle(k, vm)) return EINVAL;
  let ret = k.guestCheckTransitionSize(0, gfn, nr_pages);
  if (ret !== OK) return ret;
  ret = k.guestWalkRange(vm, gfn, nr_pages);
  if (ret !== OK) return ret;

  for (let g = gfn; g < gfn + nr_pages; g++) {
    if (k.guestEntry(vm, g) !== GuestEntry.MAPPED) continue;
    forEachLeafGfn(k, vm, g, (h) => k.setGuestProt(vm, h, k.guestProt(vm, h) & ~PROT_W));
  }
  return OK;
}

/** __pkvm_host_test_clear_young_guest(gfn, nr_pages, mkold, vm): the access flag is not modelled. */
export function host_test_clear_young_guest(k: Pkvm, { vm, gfn, nr_pages }: Args): Ret {
  if (!npVmByHandle(k, vm)) return EINVAL;
  const ret = k.guestCheckTransitionSize(0, gfn, nr_pages);
  if (ret !== OK) return ret;
  if (k.guestWalkRange(vm, gfn, nr_pages) !== OK) return PANIC; // WARN_ON(ret && ret != -EAGAIN)
  return OK;
}

/** __pkvm_host_mkyoung_guest(gfn, vcpu): walk errors are ignored. */
export function host_mkyoung_guest(k: Pkvm, { vm }: Args): Ret {
  if (loadedVcpuOf(k, vm, false) < 0) return EINVAL;
  return OK;
}
