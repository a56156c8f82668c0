// How a run's decisions become steps. fast-check generates integers, not steps: each step's
// decision is read against the state the run has reached, so that "a page a guest owns" means a
// page some guest owns now. fast-check shrinks a run by removing decisions; whatever remains,
// the interpreted steps are alphabet steps, the same ones the exhaustive search takes.
//
// A decision is [action, route, one digit per argument]:
// - action: an index into the run's swarm (the subset of actions this run may choose);
// - route: bits 0-2 all set (one step in eight) turn the lifecycle redirect off, so that guest
//   calls with no VM behind them are still tried; bit 3 picks block-sized arguments where an
//   action takes them;
// - an argument digit: bits 0-1 not both set draw from the action's preferred pool (the steps
//   of the lifecycle redirect always do), else bits 2-6 pick a pool of that argument's kind, or
//   the whole domain; bits 7.. pick the element.

import { ACTIONS, type ActionDef } from "../../model/actions.js";
import type { ArgName, Args } from "../../model/args.js";
import { VmLife, type PkvmState } from "../../model/state.js";
import { AlphabetSpace, type AlphabetStep } from "../alphabet.js";
import * as P from "./random-pools.js";
import type { Pool } from "./random-pools.js";
import { PageSet } from "./page-set.js";

type Value = number | boolean;

/**
 * The steps of one action, as a tree over its arguments in order: a level holds one argument's
 * values (those that lead to steps) and the subtree of each. Over an AlphabetSpace the tree is
 * never built: each level is made when a walk reaches it, so that a 4,096-page world costs what
 * a 64-page one does.
 */
type Node = AlphabetStep | Level;

interface Level {
  readonly arg: ArgName;
  readonly size: number;
  at(i: number): Value;
  has(v: Value): boolean;
  /** Set when the values are 0 .. range - 1. */
  readonly range?: number;
  /** The subtree under value v, or undefined when no step has it. */
  next(v: Value): Node | undefined;
}

const isLevel = (n: Node): n is Level => "next" in n;

/** The tree of an explicit list of steps (all of one action). */
function tree(steps: readonly AlphabetStep[], depth: number): Node {
  const args = steps[0].action.args;
  if (depth === args.length) return steps[0];
  const arg = args[depth];
  const groups = new Map<Value, AlphabetStep[]>();
  for (const s of steps) {
    const v = s.args[arg];
    const g = groups.get(v);
    if (g) g.push(s);
    else groups.set(v, [s]);
  }
  const next = new Map<Value, Node>();
  for (const [v, g] of groups) next.set(v, tree(g, depth + 1));
  const values = [...groups.keys()];
  return { arg, size: values.length, at: (i) => values[i], has: (v) => next.has(v), next: (v) => next.get(v) };
}

/** The same tree over a space's domains, a level at a time. */
function lazyTree(space: AlphabetSpace, action: ActionDef, depth: number, acc: Partial<Args>): Node {
  if (depth === action.args.length) return space.step(action, acc);
  const arg = action.args[depth];
  const d = space.domain(action, arg, acc.vm ?? 0);
  return { arg, size: d.size, at: d.at, has: d.has, range: d.range ? d.size : undefined, next: (v) => (d.has(v) ? lazyTree(space, action, depth + 1, { ...acc, [arg]: v }) : undefined) };
}

/** Every pool an argument of each kind may be drawn from, besides its whole domain. */
const POOLS: Readonly<Record<ArgName, readonly Pool[]>> = {
  vm: [P.vmLoaded, P.vmWithLife(VmLife.ABSENT), P.vmWithLife(VmLife.LIVE), P.vmWithLife(VmLife.DYING)],
  vcpu: [P.vcpuFree, P.vcpuReady],
  pfn: [
    P.hostOwned, P.hypShared, P.pinned, P.ffaShared, P.guestShared, P.hypOwned, P.guestOwned,
    P.hostBorrowed, P.leaked, P.inGuestBlock, P.alignedHostOwned, P.edgePfns, P.notDonatable,
  ],
  gfn: [P.gfnAbsent, P.gfnMapped, P.gfnOwned, P.gfnSharedOwned, P.gfnBorrowed, P.gfnPoisoned, P.gfnBlockStart, P.gfnPastEnd],
  nr_pages: [P.one, P.blockNr],
  prot: [],
  mkold: [],
};

type Prefer = Partial<Record<ArgName, Pool>>;

/** The pools where an action does something (three picks in four). */
const PREFER: Readonly<Record<string, Prefer>> = {
  host_share_hyp: { pfn: P.hostOwned },
  host_unshare_hyp: { pfn: P.hypShared },
  host_donate_hyp: { pfn: P.hostOwned, nr_pages: P.one },
  hyp_donate_host: { pfn: P.hypOwned, nr_pages: P.one },
  hyp_pin_shared_mem: { pfn: P.hypShared, nr_pages: P.one },
  hyp_unpin_shared_mem: { pfn: P.pinned, nr_pages: P.one },
  host_share_ffa: { pfn: P.hostOwned, nr_pages: P.one },
  host_unshare_ffa: { pfn: P.ffaShared, nr_pages: P.one },
  host_share_guest: { vm: P.vmOfType(false), pfn: P.hostOwned, gfn: P.gfnAbsent, nr_pages: P.one },
  host_unshare_guest: { vm: P.vmPresentOfType(false), gfn: P.gfnBorrowed, nr_pages: P.one },
  host_relax_perms_guest: { vm: P.vmOfType(false), gfn: P.gfnBorrowed },
  host_wrprotect_guest: { vm: P.vmPresentOfType(false), gfn: P.gfnBorrowed, nr_pages: P.one },
  host_test_clear_young_guest: { vm: P.vmPresentOfType(false), gfn: P.gfnBorrowed, nr_pages: P.one },
  host_mkyoung_guest: { vm: P.vmOfType(false), gfn: P.gfnBorrowed },
  host_donate_guest: { vm: P.vmOfType(true), pfn: P.hostOwned, gfn: P.gfnAbsent },
  host_reclaim_page_guest: { vm: P.vmWithLife(VmLife.DYING), gfn: P.gfnMapped },
  host_force_reclaim_page_guest: { pfn: P.guestOwned },
  init_vm: { vm: P.vmWithLife(VmLife.ABSENT), pfn: P.hostOwned },
  init_vcpu: { vm: P.vmPresent, vcpu: P.vcpuFree, pfn: P.hostOwned },
  vcpu_load: { vm: P.vmWithLife(VmLife.LIVE), vcpu: P.vcpuReady },
  start_teardown_vm: { vm: P.vmWithLife(VmLife.LIVE) },
  finalize_teardown_vm: { vm: P.vmWithLife(VmLife.DYING) },
  host_topup_memcache: { vm: P.vmPresent, vcpu: P.vcpuReady, pfn: P.hostOwned },
  guest_share_host: { vm: P.vmOfType(true), gfn: P.gfnOwned },
  guest_unshare_host: { vm: P.vmOfType(true), gfn: P.gfnSharedOwned },
  guest_relinquish: { vm: P.vmOfType(true), gfn: P.gfnOwned },
  host_read: { pfn: P.notHostOwned },
  host_write: { pfn: P.notHostOwned },
  guest_read: { vm: P.vmLoaded, gfn: P.gfnMapped },
  guest_write: { vm: P.vmLoaded, gfn: P.gfnMapped },
};

/** With the route's block bit: whole aligned blocks, where the kernel takes them. */
const PREFER_BLOCK: Readonly<Record<string, Prefer>> = {
  host_share_guest: { ...PREFER.host_share_guest, pfn: P.alignedHostOwned, gfn: P.gfnAlignedAbsent, nr_pages: P.blockNr },
  host_unshare_guest: { ...PREFER.host_unshare_guest, gfn: P.gfnBlockStart, nr_pages: P.blockNr },
  host_wrprotect_guest: { ...PREFER.host_wrprotect_guest, gfn: P.gfnBlockStart, nr_pages: P.blockNr },
  host_donate_hyp: { pfn: P.alignedHostOwned, nr_pages: P.blockNr },
  host_share_ffa: { pfn: P.alignedHostOwned, nr_pages: P.blockNr },
};

/** Steps that run on a loaded vCPU of their `vm` (hyp-main.c handlers, guest hypercalls, accesses). */
const ON_VCPU = new Set([
  "host_share_guest", "host_relax_perms_guest", "host_mkyoung_guest", "host_donate_guest",
  "guest_share_host", "guest_unshare_host", "guest_relinquish", "guest_read", "guest_write",
]);
/** Steps that take a page from the loaded vCPU's memcache (semantics 5b). */
const USES_MEMCACHE = new Set(["host_share_guest", "host_donate_guest"]);
/** Steps refused while a vCPU of their `vm` is loaded: teardown. */
const VM_UNLOADED = new Set(["start_teardown_vm", "finalize_teardown_vm"]);
/** A guest access needs a mapped gfn: donated to a protected VM, shared with a non-protected one. */
const mapFor = (k: PkvmState, vm: number): string => (k.w.config.vms[vm].protected ? "host_donate_guest" : "host_share_guest");

/** Steps that act on a page in a state some other step makes: [the pool of such pages, that step]. */
const NEEDS_PAGE: Readonly<Record<string, readonly [Pool, string | typeof mapFor]>> = {
  host_unshare_hyp: [P.hypShared, "host_share_hyp"],
  hyp_pin_shared_mem: [P.hypShared, "host_share_hyp"],
  hyp_unpin_shared_mem: [P.pinned, "hyp_pin_shared_mem"],
  host_unshare_ffa: [P.ffaShared, "host_share_ffa"],
  host_unshare_guest: [P.gfnBorrowed, "host_share_guest"],
  host_relax_perms_guest: [P.gfnBorrowed, "host_share_guest"],
  host_wrprotect_guest: [P.gfnBorrowed, "host_share_guest"],
  host_mkyoung_guest: [P.gfnBorrowed, "host_share_guest"],
  host_force_reclaim_page_guest: [P.guestOwned, "host_donate_guest"],
  guest_share_host: [P.gfnOwned, "host_donate_guest"],
  guest_relinquish: [P.gfnOwned, "host_donate_guest"],
  guest_unshare_host: [P.gfnSharedOwned, "guest_share_host"],
  guest_read: [P.gfnMapped, mapFor],
  guest_write: [P.gfnMapped, mapFor],
};
/** Prerequisites chain (guest_unshare_host <- guest_share_host <- host_donate_guest <- ... <- init_vm). */
const MAX_CHAIN = 8;

/** Digits in a decision: action, route, and one per argument of the widest action. */
export const DIGITS = 2 + Math.max(...ACTIONS.map((a) => a.args.length));
export type Decision = readonly number[];

/** A 32-bit hash of two integers (murmur3's finaliser), for seeds derived from seeds. */
export function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 1, 0x9e3779b1)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

export class Chooser {
  /** The alphabet's actions, in alphabet order, each with its tree of steps. */
  readonly actions: { readonly name: string; readonly root: Node }[] = [];
  private readonly byName = new Map<string, Node>();

  constructor(alphabet: readonly AlphabetStep[] | AlphabetSpace) {
    if (alphabet instanceof AlphabetSpace) {
      for (const action of alphabet.actions) {
        const root = lazyTree(alphabet, action, 0, {});
        this.actions.push({ name: action.name, root });
        this.byName.set(action.name, root);
      }
      return;
    }
    const groups = new Map<string, AlphabetStep[]>();
    for (const s of alphabet) {
      const g = groups.get(s.action.name);
      if (g) g.push(s);
      else groups.set(s.action.name, [s]);
    }
    for (const [name, steps] of groups) {
      const root = tree(steps, 0);
      this.actions.push({ name, root });
      this.byName.set(name, root);
    }
  }

  /**
   * The actions a run may choose, as indices into `actions`. Swarm testing: each run leaves
   * about half of them out, so that the ones it keeps get the whole run to go deep; 0 keeps all.
   */
  swarm(seed: number): number[] {
    const all = this.actions.map((_, i) => i);
    const some = all.filter((i) => mix32(seed, i) & 1);
    return seed === 0 || some.length === 0 ? all : some;
  }

  /**
   * The step decision d takes in state k, among the actions `swarm` (indices into `actions`);
   * null when that step's guard refuses it here (the hyp never unpins what it did not pin).
   */
  step(k: PkvmState, d: Decision, swarm: readonly number[]): AlphabetStep | null {
    const { name, root } = this.actions[swarm[d[0] % swarm.length]];
    const block = (d[1] & 8) !== 0;
    let step = this.walk(k, name, root, d, block, false, {});
    for (let i = 0; step !== null && (d[1] & 7) !== 7 && i < MAX_CHAIN; i++) {
      const before = this.prerequisite(k, step, d);
      if (before === null) break;
      step = before;
    }
    return step && (!step.enabled || step.enabled(k)) ? step : null;
  }

  /** The step of action `name` with the `fixed` arguments and the others picked by d; null if none. */
  private walk(
    k: PkvmState,
    name: string,
    root: Node,
    d: Decision,
    block: boolean,
    preferOnly: boolean,
    fixed: Partial<Record<ArgName, Value>>,
  ): AlphabetStep | null {
    const prefer = (block && PREFER_BLOCK[name]) || PREFER[name] || {};
    let node = root;
    let vm = 0;
    for (let i = 2; isLevel(node); i++) {
      const v = fixed[node.arg] ?? this.pick(k, node, prefer[node.arg], vm, preferOnly ? d[i] & ~3 : d[i]);
      const next = node.next(v);
      if (next === undefined) return null;
      if (node.arg === "vm") vm = v as number;
      node = next;
    }
    return node;
  }

  private pick(k: PkvmState, level: Level, prefer: Pool | undefined, vm: number, digit: number): Value {
    const pools = POOLS[level.arg];
    const pool = prefer && (digit & 3) !== 3 ? prefer : pools[((digit >>> 2) & 31) % (pools.length + 1)];
    const at = digit >>> 7;
    if (pool) {
      const c = pool(k, vm);
      // A page set within the level's range needs no filtering: its i-th member is the i-th candidate.
      if (c instanceof PageSet && level.range !== undefined && c.pages <= level.range) {
        if (c.length > 0) return c.at(at % c.length);
      } else {
        const all = c instanceof PageSet ? Array.from({ length: c.length }, (_, i) => c.at(i)) : c;
        const candidates = all.filter((v) => level.has(v));
        if (candidates.length > 0) return candidates[at % candidates.length];
      }
    }
    return level.at(at % level.size);
  }

  /**
   * The step `step` is waiting for, if any (the lifecycle redirect). A guest-side step needs its
   * VM built and one of its vCPUs loaded (init_vm -> init_vcpu -> vcpu_load, putting another
   * vCPU first), and a share or donate a page in the memcache; a step on a dying VM's vCPU waits
   * for its teardown to finish (reclaim, then finalize); teardown needs the VM's vCPU put; and a
   * step on a page in some state waits for a step that puts a page in that state.
   */
  private prerequisite(k: PkvmState, step: AlphabetStep, d: Decision): AlphabetStep | null {
    const name = step.action.name;
    const vm = step.args.vm;
    if (VM_UNLOADED.has(name) && k.loadedVm() === vm) return this.lifecycle(k, "vcpu_put", d, {});
    if (ON_VCPU.has(name) && k.loadedVm() !== vm) {
      switch (k.vmLife(vm)) {
        case VmLife.ABSENT:
          return this.lifecycle(k, "init_vm", d, { vm });
        case VmLife.DYING:
          return P.gfnMapped(k, vm).length > 0
            ? this.lifecycle(k, "host_reclaim_page_guest", d, { vm })
            : this.lifecycle(k, "finalize_teardown_vm", d, { vm });
      }
      if (k.loadedVm() >= 0) return this.lifecycle(k, "vcpu_put", d, {});
      if (P.vcpuReady(k, vm).length === 0) return this.lifecycle(k, "init_vcpu", d, { vm });
      return this.lifecycle(k, "vcpu_load", d, { vm });
    }
    if (USES_MEMCACHE.has(name) && k.w.config.memcache && k.memcacheCount(vm, k.loadedVcpu()) === 0) {
      return this.lifecycle(k, "host_topup_memcache", d, { vm, vcpu: k.loadedVcpu() });
    }
    const need = NEEDS_PAGE[name];
    if (need === undefined || need[0](k, vm).length > 0) return null;
    const maker = typeof need[1] === "string" ? need[1] : need[1](k, vm);
    return this.lifecycle(k, maker, d, step.action.args.includes("vm") ? { vm } : {});
  }

  private lifecycle(k: PkvmState, name: string, d: Decision, fixed: Partial<Record<ArgName, Value>>): AlphabetStep | null {
    const root = this.byName.get(name);
    return root === undefined ? null : this.walk(k, name, root, d, false, true, fixed);
  }
}
