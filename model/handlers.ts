// Handler-level checks of hyp-main.c, which run before the transition (semantics 5a).

import type { Pkvm } from "./pkvm.js";
import { VmLife } from "./state.js";

/**
 * The loaded vCPU's index if it belongs to `vm` and the VM's type is `protectedVm`, else -1:
 * the share / relax / mkyoung handlers want a non-protected VM, donate a protected one.
 */
export function loadedVcpuOf(k: Pkvm, vm: number, protectedVm: boolean): number {
  if (k.loadedVm() !== vm || k.w.config.vms[vm].protected !== protectedVm) return -1;
  return k.loadedVcpu();
}

/** The guest hypercalls come from whichever vCPU of `vm` is loaded; -1 when none is. */
export function guestVcpu(k: Pkvm, vm: number): number {
  return k.loadedVm() === vm ? k.loadedVcpu() : -1;
}

/** get_np_pkvm_hyp_vm(handle): unshare, wrprotect and test_clear_young do not refuse dying VMs. */
export function npVmByHandle(k: Pkvm, vm: number): boolean {
  return k.vmLife(vm) !== VmLife.ABSENT && !k.w.config.vms[vm].protected;
}
