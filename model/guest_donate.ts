// Host <-> protected guest: __pkvm_host_donate_guest, the guest's MEM_SHARE / MEM_UNSHARE /
// MEM_RELINQUISH hypercalls, and the host taking pages back (reclaim from a dying VM, force
// reclaim from the host fault handler). A donated page is guest OWNED and host NOPAGE, with a
// host stage-2 annotation naming the VM handle and gfn.

import type { Args } from "./args.js";
import { E2BIG, EAGAIN, EFAULT, EHWPOISON, EINVAL, ENOENT, ENOMEM, EPERM, OK, PANIC, type Ret } from "./errno.js";
import { guestVcpu, loadedVcpuOf } from "./handlers.js";
import type { Pkvm } from "./pkvm.js";
import { Contents, GuestEntry, Owner, PageState, PROT_RWX, S2, VmLife } from "./state.js";

const { NOPAGE, OWNED, SHARED_OWNED, SHARED_BORROWED } = PageState;

/** __pkvm_host_donate_guest(pfn, gfn, vcpu) */
export function host_donate_guest(k: Pkvm, { vm, pfn, gfn }: Args): Ret {
  const vcpu = loadedVcpuOf(k, vm, true);
  if (vcpu < 0) return EINVAL;
  let ret = k.hostCheckPageStateRange(pfn, 1, OWNED);
  if (ret !== OK) return ret;
  ret = k.guestCheckPageStateRange(vm, gfn, 1, NOPAGE);
  if (ret !== OK) return ret;
  if (k.memcacheBelowMin(vm, vcpu)) return ENOMEM;

  k.setHostState(pfn, NOPAGE);
  k.hostStage2SetOwnerGuest(pfn, vm, gfn);
  k.guestStage2Map(vm, vcpu, gfn, pfn, 1, OWNED, PROT_RWX);
  return OK;
}

/** The guest's page-granular leaf at gfn, as the guest share / unshare paths look it up. */
function guestPageLeaf(k: Pkvm, vm: number, gfn: number): Ret {
  const ret = k.guestWalkRange(vm, gfn, 1);
  if (ret !== OK) return ret;
  const e = k.guestEntry(vm, gfn);
  if (e === GuestEntry.POISON) return EHWPOISON;
  if (e === GuestEntry.ABSENT) return ENOENT;
  if (k.guestBlock(vm, gfn)) return E2BIG;
  return OK;
}

/** __pkvm_guest_share_host(vcpu, gfn): the guest lets the host see one of its pages. */
export function guest_share_host(k: Pkvm, { vm, gfn }: Args): Ret {
  if (loadedVcpuOf(k, vm, true) < 0) return EINVAL; // MEM_SHARE is handled at EL2 for protected VMs only
  let ret = guestPageLeaf(k, vm, gfn);
  if (ret !== OK) return ret;
  if (k.guestState(vm, gfn) !== OWNED) return EPERM;
  const pfn = k.guestPfn(vm, gfn);
  ret = k.hostCheckPageStateRange(pfn, 1, NOPAGE);
  if (ret !== OK) return ret;

  k.setGuestState(vm, gfn, SHARED_OWNED);
  k.setHostState(pfn, SHARED_BORROWED);
  k.hostStage2Idmap(pfn, 1);
  if (k.contents(pfn) === Contents.GUEST) k.setContents(pfn, Contents.HOST); // the guest's choice
  return OK;
}

/** __pkvm_guest_unshare_host(vcpu, gfn) */
export function guest_unshare_host(k: Pkvm, { vm, gfn }: Args): Ret {
  if (loadedVcpuOf(k, vm, true) < 0) return EINVAL;
  let ret = guestPageLeaf(k, vm, gfn);
  if (ret !== OK) return ret;
  if (k.guestState(vm, gfn) !== SHARED_OWNED) return EPERM;
  const pfn = k.guestPfn(vm, gfn);
  ret = k.hostCheckPageStateRange(pfn, 1, SHARED_BORROWED);
  if (ret !== OK) return ret;

  k.setHostState(pfn, NOPAGE);
  k.hostStage2SetOwnerGuest(pfn, vm, gfn);
  k.setGuestState(vm, gfn, OWNED);
  return OK;
}

/** Android's __pkvm_guest_relinquish_to_host(vcpu, gfn): the guest gives a page back, scrubbed. */
export function guest_relinquish(k: Pkvm, { vm, gfn }: Args): Ret {
  if (guestVcpu(k, vm) < 0) return EINVAL;
  if (!k.w.config.vms[vm].protected) return OK;
  if (k.guestWalkRange(vm, gfn, 1) !== OK || k.guestEntry(vm, gfn) !== GuestEntry.MAPPED) return OK;
  if (k.guestBlock(vm, gfn)) return E2BIG;
  const pfn = k.guestPfn(vm, gfn);
  if (!k.w.isMemory(pfn)) return EPERM;
  if (k.guestState(vm, gfn) !== OWNED) return EPERM;

  k.clearGuestEntry(vm, gfn);
  k.zeroPage(pfn);
  k.hostStage2SetOwnerHost(pfn);
  return OK;
}

/** __pkvm_reclaim_dying_guest_page(vm, gfn): between start and finalize of teardown. */
export function host_reclaim_page_guest(k: Pkvm, { vm, gfn }: Args): Ret {
  if (k.vmLife(vm) !== VmLife.DYING) return EINVAL;
  const ret = k.guestWalkRange(vm, gfn, 1);
  if (ret !== OK) return ret;
  const e = k.guestEntry(vm, gfn);
  if (e === GuestEntry.POISON) return OK; // already scrubbed by force reclaim
  if (e === GuestEntry.ABSENT) return ENOENT;
  if (k.guestBlock(vm, gfn)) return E2BIG;
  const st = k.guestState(vm, gfn);
  if (st !== OWNED && st !== SHARED_OWNED) return EPERM;
  const pfn = k.guestPfn(vm, gfn);

  k.clearGuestEntry(vm, gfn);
  if (st === OWNED) k.zeroPage(pfn); // a page shared with the host holds nothing secret
  k.hostStage2SetOwnerHost(pfn);
  return OK;
}

/** __pkvm_host_force_reclaim_guest_page(pfn): the host takes a page back from a live guest. */
export function host_force_reclaim_page_guest(k: Pkvm, { pfn }: Args): Ret {
  if (!k.w.isMemory(pfn)) return EFAULT;
  if (k.hostState(pfn) !== NOPAGE) return EAGAIN;
  if (k.hostS2(pfn) !== S2.ANNOTATION || k.annotationOwner(pfn) !== Owner.GUEST) return EPERM;
  const vm = k.annotationVm(pfn);
  const gfn = k.annotationGfn(pfn);
  if (k.vmLife(vm) === VmLife.ABSENT) return EAGAIN;
  const e = k.guestEntry(vm, gfn);
  if (e === GuestEntry.POISON) return EHWPOISON;
  if (e === GuestEntry.ABSENT) return ENOENT;
  if (k.guestBlock(vm, gfn)) return E2BIG;
  if (k.guestPfn(vm, gfn) !== pfn) return PANIC; // WARN_ON: the annotation names another mapping
  if (k.guestState(vm, gfn) !== OWNED) return EPERM;

  k.setGuestPoison(vm, gfn);
  k.zeroPage(pfn);
  k.hostStage2SetOwnerHost(pfn);
  return OK;
}
