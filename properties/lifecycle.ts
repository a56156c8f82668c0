// Invariant 14: the VM lifecycle. State form: an absent slot holds nothing (no leaves, vCPUs,
// memcache or tables); the loaded vCPU is an initialised vCPU of a live VM (so a dying VM has
// none loaded). Step form: a step that succeeds had the VM it needs (guest transitions through
// a loaded vCPU of the right VM type, reclaim only from a dying VM, ...); and after
// finalize_teardown_vm every page the VM held is host OWNED again, or marked leaked.

import type { Args } from "../model/args.js";
import { GuestEntry, PageState, VmLife, type PkvmState } from "../model/state.js";
import { lifeName, stateName } from "./lib/pages.js";
import { findVmPage, useName } from "./lib/vm-pages.js";
import { finding, type Finding, type Property } from "./property.js";

const { ABSENT, LIVE, DYING } = VmLife;

function absentSlotProblem(s: PkvmState, v: number): string | null {
  const { vcpus, gfns } = s.w.config.vms[v];
  for (let g = 0; g < gfns; g++) if (s.guestEntry(v, g) !== GuestEntry.ABSENT) return `gfn ${g} still has a leaf`;
  for (let i = 0; i < vcpus; i++) {
    if (s.vcpuPfn(v, i) >= 0) return `vcpu ${i} still initialised`;
    if (s.w.config.memcache && s.memcacheCount(v, i) > 0) return `vcpu ${i} memcache still holds pages`;
  }
  for (let t = 0; t < s.w.vm[v].nTables; t++) if (s.tablePfn(v, t) >= 0) return `stage-2 table ${t} still allocated`;
  return null;
}

function loadedProblem(s: PkvmState): string | null {
  const vm = s.loadedVm();
  if (vm < 0) return null;
  const vcpu = s.loadedVcpu();
  if (vm >= s.w.config.vms.length) return `loaded vCPU names slot ${vm}, past the config`;
  if (s.vmLife(vm) !== LIVE) return `vm ${vm} vcpu ${vcpu} loaded but the VM is ${lifeName(s.vmLife(vm))}`;
  if (vcpu >= s.w.config.vms[vm].vcpus || s.vcpuPfn(vm, vcpu) < 0) return `vm ${vm} vcpu ${vcpu} loaded but not initialised`;
  return null;
}

// ---- step form: what a successful step needs of the state before it ---------------------

type Need = (pre: PkvmState, a: Args) => string | null;

const life = (want: VmLife): Need => (pre, { vm }) =>
  pre.vmLife(vm) === want ? null : `vm ${vm} was ${lifeName(pre.vmLife(vm))}, not ${lifeName(want)}`;

const present: Need = (pre, { vm }) => (pre.vmLife(vm) !== ABSENT ? null : `vm ${vm} was ABSENT`);

const unloaded: Need = (pre, { vm }) => (pre.loadedVm() === vm ? `vm ${vm} had a vCPU loaded` : null);

const ofType = (protectedVm: boolean): Need => (pre, { vm }) =>
  pre.w.config.vms[vm].protected === protectedVm ? null : `vm ${vm} is ${protectedVm ? "non-protected" : "protected"}`;

/** The step ran on a vCPU of `vm`, loaded on the one physical CPU. */
const loaded: Need = (pre, { vm }) =>
  pre.loadedVm() === vm ? null : `no vCPU of vm ${vm} was loaded (loaded: ${pre.loadedVm() < 0 ? "none" : `vm ${pre.loadedVm()}`})`;

const vcpuReady = (initialised: boolean): Need => (pre, { vm, vcpu }) =>
  (pre.vcpuPfn(vm, vcpu) >= 0) === initialised ? null : `vm ${vm} vcpu ${vcpu} was ${initialised ? "not " : ""}initialised`;

const nothingLoaded: Need = (pre) => (pre.loadedVm() < 0 ? null : `vm ${pre.loadedVm()} vcpu ${pre.loadedVcpu()} was loaded`);

const all = (...needs: Need[]): Need => (pre, a) => {
  for (const n of needs) {
    const why = n(pre, a);
    if (why) return why;
  }
  return null;
};

const NEEDS: ReadonlyMap<string, Need> = new Map(Object.entries({
  init_vm: life(ABSENT),
  init_vcpu: all(present, vcpuReady(false)),
  vcpu_load: all(nothingLoaded, life(LIVE), vcpuReady(true)),
  start_teardown_vm: all(life(LIVE), unloaded),
  finalize_teardown_vm: all(life(DYING), unloaded),
  host_topup_memcache: all(present, vcpuReady(true)),
  host_share_guest: all(loaded, ofType(false)),
  host_relax_perms_guest: all(loaded, ofType(false)),
  host_mkyoung_guest: all(loaded, ofType(false)),
  host_donate_guest: all(loaded, ofType(true)),
  host_unshare_guest: all(present, ofType(false)),
  host_wrprotect_guest: all(present, ofType(false)),
  host_test_clear_young_guest: all(present, ofType(false)),
  host_reclaim_page_guest: life(DYING),
  guest_share_host: all(loaded, ofType(true)),
  guest_unshare_host: all(loaded, ofType(true)),
  guest_relinquish: loaded,
  guest_read: loaded,
  guest_write: loaded,
}));

/** After finalize_teardown_vm(vm): every page vm held in `pre` is host OWNED or leaked. */
function finalizeProblem(pre: PkvmState, vm: number, post: PkvmState): Finding | null {
  const returned = (p: number, what: string): Finding | null => {
    if (p >= post.w.pages || post.hostState(p) === PageState.OWNED || post.leaked(p)) return null;
    return finding(`pfn ${p}: ${what} before finalize_teardown_vm, now host ${stateName(post.hostState(p))} and not leaked`, { pages: [p] });
  };
  const f = findVmPage(pre, vm, (p, use, i) => returned(p, useName(vm, use, i)));
  if (f) return f;
  for (let g = 0; g < pre.w.config.vms[vm].gfns; g++) {
    if (pre.guestEntry(vm, g) !== GuestEntry.MAPPED) continue;
    const leak = returned(pre.guestPfn(vm, g), `mapped by vm ${vm} gfn ${g}`);
    if (leak) return { ...leak, frames: [[vm, g]] };
  }
  return null;
}

const property: Property = {
  id: "lifecycle",
  description: "VM slots, vCPUs and teardown: operations need the VM in the right stage; finalize returns or leaks every page",
  invariant: 14,
  actions: [...NEEDS.keys()],
  checkState(s) {
    for (let v = 0; v < s.w.config.vms.length; v++) {
      if (s.vmLife(v) !== ABSENT) continue;
      const problem = absentSlotProblem(s, v);
      if (problem) return finding(`vm ${v}: ABSENT but ${problem}`);
    }
    const problem = loadedProblem(s);
    return problem ? finding(problem) : null;
  },
  checkStep(pre, step, ret, post) {
    const need = NEEDS.get(step.action.name);
    if (ret !== "0" || !need) return null;
    const why = need(pre, step.args);
    if (why) return finding(`vm ${step.args.vm}: ${step.action.name} succeeded but ${why}`);
    return step.action.name === "finalize_teardown_vm" ? finalizeProblem(pre, step.args.vm, post) : null;
  },
};

export default property;
