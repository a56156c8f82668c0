// The VM lifecycle (pkvm.c): __pkvm_init_vm, __pkvm_init_vcpu, __pkvm_vcpu_load / put, the split
// teardown, and the host topping up a vCPU's memcache. VM slots are the kernel's handles: a
// finalized slot is free for the next init_vm, and stale annotations keep naming it.

import type { Args } from "./args.js";
import { EINVAL, ENOENT, ENOMEM, OK, type Ret } from "./errno.js";
import { host_donate_hyp } from "./host_hyp.js";
import { makeArgs } from "./args.js";
import type { Pkvm } from "./pkvm.js";
import { Contents, GuestEntry, VmLife } from "./state.js";

function donateOnePage(k: Pkvm, pfn: number): Ret {
  return host_donate_hyp(k, makeArgs({ pfn, nr_pages: 1 }));
}

/** __pkvm_init_vm(): the donated page holds the VM metadata and the guest stage-2 root. */
export function init_vm(k: Pkvm, { vm, pfn }: Args): Ret {
  if (k.w.config.vms[vm].vcpus < 1) return EINVAL;
  if (donateOnePage(k, pfn) !== OK) return ENOMEM;
  if (k.vmLife(vm) !== VmLife.ABSENT) {
    k.returnZeroedToHost(pfn); // the error path hands the donation back
    return EINVAL;
  }

  k.setContents(pfn, Contents.HYP);
  k.setVmMetaPfn(vm, pfn);
  k.setVmLife(vm, VmLife.LIVE);
  return OK;
}

/** __pkvm_init_vcpu(): the donation comes before the VM lookup; no dying check. */
export function init_vcpu(k: Pkvm, { vm, vcpu, pfn }: Args): Ret {
  if (donateOnePage(k, pfn) !== OK) return ENOMEM;
  let ret: Ret = OK;
  if (k.vmLife(vm) === VmLife.ABSENT) ret = ENOENT;
  else if (vcpu >= k.w.config.vms[vm].vcpus || k.vcpuPfn(vm, vcpu) >= 0) ret = EINVAL;
  if (ret !== OK) {
    k.returnZeroedToHost(pfn);
    return ret;
  }

  k.setContents(pfn, Contents.HYP);
  k.setVcpuPfn(vm, vcpu, pfn);
  return OK;
}

/** __pkvm_vcpu_load(): void in the kernel; refusals are "-EINVAL" (interface.md). */
export function vcpu_load(k: Pkvm, { vm, vcpu }: Args): Ret {
  if (k.loadedVm() >= 0) return EINVAL;
  if (k.vmLife(vm) !== VmLife.LIVE) return EINVAL;
  if (k.vcpuPfn(vm, vcpu) < 0) return EINVAL;

  k.setLoaded(vm, vcpu);
  return OK;
}

/** __pkvm_vcpu_put() */
export function vcpu_put(k: Pkvm): Ret {
  if (k.loadedVm() < 0) return EINVAL;

  k.clearLoaded();
  return OK;
}

/** __pkvm_start_teardown_vm(): get_pkvm_unref_hyp_vm_locked() makes every refusal -EINVAL. */
export function start_teardown_vm(k: Pkvm, { vm }: Args): Ret {
  if (k.vmLife(vm) !== VmLife.LIVE || k.loadedVm() === vm) return EINVAL;

  k.setVmLife(vm, VmLife.DYING);
  return OK;
}

/**
 * __pkvm_finalize_teardown_vm(): frees the guest stage-2 (tables back zeroed), the VM and vCPU
 * metadata (zeroed) and unused memcache pages (as they are), and the slot. Guest pages the host
 * did not reclaim stay where they are: leaked.
 */
export function finalize_teardown_vm(k: Pkvm, { vm }: Args): Ret {
  if (k.vmLife(vm) !== VmLife.DYING || k.loadedVm() === vm) return EINVAL;

  const l = k.w.vm[vm];
  const { vcpus, gfns } = k.w.config.vms[vm];
  for (let g = 0; g < gfns; g++) {
    if (k.guestEntry(vm, g) === GuestEntry.MAPPED) k.setLeaked(k.guestPfn(vm, g), true);
    k.clearGuestEntry(vm, g);
  }
  for (let t = 0; t < l.nTables; t++) {
    if (k.tablePfn(vm, t) >= 0) k.returnZeroedToHost(k.tablePfn(vm, t));
    k.setTablePfn(vm, t, -1);
  }
  for (let i = 0; i < vcpus; i++) {
    while (k.w.config.memcache && k.memcacheCount(vm, i) > 0) k.doHypDonateHost(k.memcachePop(vm, i), 1);
    if (k.vcpuPfn(vm, i) >= 0) k.returnZeroedToHost(k.vcpuPfn(vm, i));
    k.setVcpuPfn(vm, i, -1);
  }
  k.returnZeroedToHost(k.vmMetaPfn(vm));
  k.setVmMetaPfn(vm, 0);
  k.setVmLife(vm, VmLife.ABSENT);
  return OK;
}

/** The host hands one page to a vCPU's memcache (the share / donate handlers' refill). */
export function host_topup_memcache(k: Pkvm, { vm, vcpu, pfn }: Args): Ret {
  if (k.vmLife(vm) === VmLife.ABSENT || k.vcpuPfn(vm, vcpu) < 0) return ENOENT;
  const ret = donateOnePage(k, pfn);
  if (ret !== OK) return ret;

  k.memcachePush(vm, vcpu, pfn);
  return OK;
}
