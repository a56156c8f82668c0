// The registry of every action of interface.md: its arguments, who can cause it (semantics 5a)
// and the transition that gives it meaning. Every engine iterates this one table.

import * as access from "./access.js";
import { formatProt, makeArgs, type ArgName, type Args } from "./args.js";
import type { Ret } from "./errno.js";
import * as ffa from "./ffa.js";
import * as donate from "./guest_donate.js";
import * as share from "./guest_share.js";
import * as hyp from "./host_hyp.js";
import * as life from "./lifecycle.js";
import type { Pkvm } from "./pkvm.js";

/**
 * host: a host hypercall; guest: a guest hypercall; access: a memory access; hyp: runs only
 * inside EL2, which the host can cause (donations into hyp, pins of what it shared);
 * internal: runs inside EL2 and the host cannot choose it (hyp_donate_host).
 */
export type Caller = "host" | "guest" | "access" | "hyp" | "internal";

export type Transition = (k: Pkvm, a: Args) => Ret;

export interface ActionDef {
  readonly name: string;
  readonly args: readonly ArgName[];
  readonly caller: Caller;
  readonly doc: string;
  readonly run: Transition;
  /** Only with `memcache: true`. */
  readonly memcacheOnly?: boolean;
}

const def = (
  name: string,
  args: readonly ArgName[],
  caller: Caller,
  doc: string,
  run: Transition,
  memcacheOnly = false,
): ActionDef => ({ name, args, caller, doc, run, memcacheOnly });

export const ACTIONS: readonly ActionDef[] = [
  def("host_share_hyp", ["pfn"], "host", "__pkvm_host_share_hyp: host shares one page with hyp", hyp.host_share_hyp),
  def("host_unshare_hyp", ["pfn"], "host", "__pkvm_host_unshare_hyp: host takes back a page shared with hyp", hyp.host_unshare_hyp),
  def("host_donate_hyp", ["pfn", "nr_pages"], "hyp", "__pkvm_host_donate_hyp: host pages become hyp-owned", hyp.host_donate_hyp),
  def("hyp_donate_host", ["pfn", "nr_pages"], "internal", "__pkvm_hyp_donate_host: hyp pages go back to the host (not zeroed)", hyp.hyp_donate_host),
  def("hyp_pin_shared_mem", ["pfn", "nr_pages"], "hyp", "hyp_pin_shared_mem: hyp pins and maps pages the host shared with it", hyp.hyp_pin_shared_mem),
  def("hyp_unpin_shared_mem", ["pfn", "nr_pages"], "hyp", "hyp_unpin_shared_mem: hyp drops its pins", hyp.hyp_unpin_shared_mem),
  def("host_share_ffa", ["pfn", "nr_pages"], "host", "__pkvm_host_share_ffa: host shares pages with the secure world", ffa.host_share_ffa),
  def("host_unshare_ffa", ["pfn", "nr_pages"], "host", "__pkvm_host_unshare_ffa: the secure world gives shared pages back", ffa.host_unshare_ffa),
  def("host_share_guest", ["vm", "pfn", "gfn", "nr_pages", "prot"], "host", "__pkvm_host_share_guest: host shares pages with a non-protected guest", share.host_share_guest),
  def("host_unshare_guest", ["vm", "gfn", "nr_pages"], "host", "__pkvm_host_unshare_guest: host unmaps pages it shared with a non-protected guest", share.host_unshare_guest),
  def("host_relax_perms_guest", ["vm", "gfn", "prot"], "host", "__pkvm_host_relax_perms_guest: add permissions to a shared guest mapping", share.host_relax_perms_guest),
  def("host_wrprotect_guest", ["vm", "gfn", "nr_pages"], "host", "__pkvm_host_wrprotect_guest: remove write permission from shared guest mappings", share.host_wrprotect_guest),
  def("host_test_clear_young_guest", ["vm", "gfn", "nr_pages", "mkold"], "host", "__pkvm_host_test_clear_young_guest: test (and clear) the access flag", share.host_test_clear_young_guest),
  def("host_mkyoung_guest", ["vm", "gfn"], "host", "__pkvm_host_mkyoung_guest: set the access flag", share.host_mkyoung_guest),
  def("host_donate_guest", ["vm", "pfn", "gfn"], "host", "__pkvm_host_donate_guest: host gives a page to a protected guest", donate.host_donate_guest),
  def("host_reclaim_page_guest", ["vm", "gfn"], "host", "__pkvm_reclaim_dying_guest_page: host takes a page back from a dying VM", donate.host_reclaim_page_guest),
  def("host_force_reclaim_page_guest", ["pfn"], "host", "__pkvm_force_reclaim_guest_page: host takes a page back from a live guest (poisons it)", donate.host_force_reclaim_page_guest),
  def("init_vm", ["vm", "pfn"], "host", "__pkvm_init_vm: create a VM in a slot, donating its metadata page", life.init_vm),
  def("init_vcpu", ["vm", "vcpu", "pfn"], "host", "__pkvm_init_vcpu: create a vCPU, donating its metadata page", life.init_vcpu),
  def("vcpu_load", ["vm", "vcpu"], "host", "__pkvm_vcpu_load: load a vCPU on the one physical CPU", life.vcpu_load),
  def("vcpu_put", [], "host", "__pkvm_vcpu_put: put the loaded vCPU", life.vcpu_put),
  def("start_teardown_vm", ["vm"], "host", "__pkvm_start_teardown_vm: mark a VM dying", life.start_teardown_vm),
  def("finalize_teardown_vm", ["vm"], "host", "__pkvm_finalize_teardown_vm: free a dying VM and its slot", life.finalize_teardown_vm),
  def("host_topup_memcache", ["vm", "vcpu", "pfn"], "host", "host hands a page to a vCPU's memcache (memcache: true)", life.host_topup_memcache, true),
  def("guest_share_host", ["vm", "gfn"], "guest", "guest MEM_SHARE: a protected guest shares a page with the host", donate.guest_share_host),
  def("guest_unshare_host", ["vm", "gfn"], "guest", "guest MEM_UNSHARE: a protected guest takes a shared page back", donate.guest_unshare_host),
  def("guest_relinquish", ["vm", "gfn"], "guest", "Android MEM_RELINQUISH: a protected guest gives a page back to the host", donate.guest_relinquish),
  def("host_read", ["pfn"], "access", "host CPU read through the host stage-2", access.host_read),
  def("host_write", ["pfn"], "access", "host CPU write through the host stage-2", access.host_write),
  def("guest_read", ["vm", "gfn"], "access", "read by the VM's loaded vCPU through its stage-2", access.guest_read),
  def("guest_write", ["vm", "gfn"], "access", "write by the VM's loaded vCPU through its stage-2", access.guest_write),
];

export const ACTION_BY_NAME: ReadonlyMap<string, ActionDef> = new Map(ACTIONS.map((a) => [a.name, a]));

/** One action with its arguments. */
export interface Step {
  readonly action: ActionDef;
  readonly args: Args;
}

/** A step from an action name and the arguments it names (tests and tools; no validation). */
export function stepOf(name: string, args: Partial<Args> = {}): Step {
  const action = ACTION_BY_NAME.get(name);
  if (!action) throw new Error(`unknown action ${name}`);
  return { action, args: makeArgs(args) };
}

/** `host_share_hyp(pfn=3)`: how a step reads in messages, traces and fast-check output. */
export function formatStep({ action, args }: Step): string {
  const parts = action.args.map((n) => `${n}=${n === "prot" ? formatProt(args.prot) : String(args[n])}`);
  return `${action.name}(${parts.join(", ")})`;
}

/** Host- and guest-callable actions: the adversary may call them with any arguments. */
export function isAdversarial(a: ActionDef): boolean {
  return a.caller === "host" || a.caller === "guest" || a.caller === "access";
}
