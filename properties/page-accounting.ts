// Every RAM page is in exactly one place: the host's (host OWNED or SO, shared or not), the
// hyp's own (hyp OWNED: its boot pages and what host_donate_hyp gave it), one use of a present
// VM (metadata, a vCPU, a memcache or stage-2 table page: hyp OWNED), one guest leaf that owns
// it (OWNED, or SO when shared back to the host), or left behind by a finalized VM (leaked).
// State form: no page is in none or in two. Step form: a page enters a place only through the
// calls that fill that place, so a page can neither vanish into the hyp nor appear anywhere
// else by accident: the hyp's own pool grows only by host_donate_hyp, a VM's pages only by
// init_vm / init_vcpu / host_topup_memcache, and so on.

import type { ActionDef } from "../model/actions.js";
import { PageState, VmLife, type PkvmState } from "../model/state.js";
import type { World } from "../model/world.js";
import { guestMaps } from "./lib/guest-maps.js";
import { stateName } from "./lib/pages.js";
import { findVmPage, useName } from "./lib/vm-pages.js";
import { finding, type Finding, type Property } from "./property.js";

const { OWNED, SHARED_OWNED } = PageState;

export enum Place {
  NONE = 0,
  HOST = 1,
  HYP = 2,
  VM = 3,
  GUEST = 4,
  LEAKED = 5,
}

export const PLACES: readonly Place[] = [Place.NONE, Place.HOST, Place.HYP, Place.VM, Place.GUEST, Place.LEAKED];

const PLACE_NAME = ["nowhere", "the host", "the hyp's own pages", "a VM's pages", "a guest", "the leaked pages"] as const;

/** The calls through which a page may enter each place (a page never enters NONE). */
const ENTERED_BY: Readonly<Record<Place, readonly string[]>> = {
  [Place.NONE]: [],
  [Place.HOST]: ["hyp_donate_host", "host_reclaim_page_guest", "host_force_reclaim_page_guest", "guest_relinquish", "finalize_teardown_vm"],
  [Place.HYP]: ["host_donate_hyp"],
  [Place.VM]: ["init_vm", "init_vcpu", "host_topup_memcache"],
  [Place.GUEST]: ["host_donate_guest"],
  [Place.LEAKED]: ["finalize_teardown_vm"],
};

/** Whether `action` may move a page into `place`. */
export function enters(action: ActionDef, place: Place): boolean {
  return ENTERED_BY[place].includes(action.name);
}

/** Per world: how many uses of present VMs each page has, and the first one's name. */
interface Uses {
  readonly count: Uint8Array;
  readonly first: string[];
}

const usesByWorld = new WeakMap<World, Uses>();

function vmUses(s: PkvmState): Uses {
  let u = usesByWorld.get(s.w);
  if (!u) usesByWorld.set(s.w, (u = { count: new Uint8Array(s.w.pages), first: [] }));
  u.count.fill(0);
  for (let v = 0; v < s.w.config.vms.length; v++) {
    if (s.vmLife(v) === VmLife.ABSENT) continue;
    findVmPage(s, v, (p, use, i) => {
      if (p < s.w.pages && u!.count[p]++ === 0) u!.first[p] = useName(v, use, i);
      return null;
    });
  }
  return u;
}

const hostHolds = (s: PkvmState, p: number): boolean => s.hostState(p) === OWNED || s.hostState(p) === SHARED_OWNED;

/**
 * Each RAM page's place in `s`, into `out` (NONE for pages that are not RAM), and the first
 * page in no place or in two, with what it is in.
 */
function places(s: PkvmState, out: Uint8Array): Finding | null {
  const maps = guestMaps(s);
  const uses = vmUses(s);
  let problem: Finding | null = null;
  for (let p = 0; p < s.w.pages; p++) {
    out[p] = Place.NONE;
    if (!s.w.isMemory(p)) continue;
    const leaked = s.leaked(p);
    const host = !leaked && hostHolds(s, p);
    const hyp = s.hypState(p) === OWNED;
    const n = (leaked ? 1 : 0) + (host ? 1 : 0) + (hyp && uses.count[p] === 0 ? 1 : 0) + uses.count[p] + maps.owners(p);
    out[p] = leaked ? Place.LEAKED : uses.count[p] > 0 ? Place.VM : hyp ? Place.HYP : maps.owners(p) > 0 ? Place.GUEST : host ? Place.HOST : Place.NONE;
    if (problem || (n === 1 && (uses.count[p] === 0 || hyp))) continue;
    const where: string[] = [];
    if (leaked) where.push("leaked");
    if (host) where.push(`host ${stateName(s.hostState(p))}`);
    if (hyp && uses.count[p] === 0) where.push("hyp OWNED");
    if (uses.count[p] > 0) where.push(uses.count[p] === 1 ? uses.first[p] : `${uses.count[p]} VM uses (${uses.first[p]} among them)`);
    if (maps.owners(p) > 0) where.push(maps.owners(p) === 1 ? `owned by ${maps.where(p)}` : `owned by ${maps.owners(p)} guest leaves`);
    const message =
      n === 0
        ? `pfn ${p}: in no place (host ${stateName(s.hostState(p))}, hyp ${stateName(s.hypState(p))}, no VM uses it, no guest owns it, not leaked)`
        : n > 1
          ? `pfn ${p}: in ${n} places: ${where.join(", ")}`
          : `pfn ${p}: ${uses.first[p]} but hyp ${stateName(s.hypState(p))}`;
    problem = finding(message, { pages: [p], frames: maps.frames(p) });
  }
  return problem;
}

/**
 * Per world: the places of the last pre-state seen (explorers step one state many times), and
 * of the last post-state with what it found (explorers check a new state right after the step
 * into it).
 */
interface Scratch {
  readonly pre: Uint32Array;
  readonly before: Uint8Array;
  readonly post: Uint32Array;
  readonly after: Uint8Array;
  found: Finding | null;
}

const scratch = new WeakMap<World, Scratch>();

function buffers(w: World): Scratch {
  let b = scratch.get(w);
  if (!b) {
    const words = () => new Uint32Array(w.words).fill(0xffffffff); // no state's words
    scratch.set(w, (b = { pre: words(), before: new Uint8Array(w.pages), post: words(), after: new Uint8Array(w.pages), found: null }));
  }
  return b;
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether the step changed what places are made of: page ownership, the leak marks, the VMs or their leaves. */
function placesMayDiffer(pre: PkvmState, post: PkvmState): boolean {
  for (let p = 0; p < pre.w.pages; p++) {
    if (pre.hostState(p) !== post.hostState(p) || pre.hypState(p) !== post.hypState(p) || pre.leaked(p) !== post.leaked(p)) return true;
  }
  const vmWords = pre.w.vm.length > 0 ? pre.w.vm[0].base : pre.s.length;
  for (let i = vmWords; i < pre.s.length; i++) if (pre.s[i] !== post.s[i]) return true;
  return false;
}

const property: Property = {
  id: "page-accounting",
  description: "every RAM page is in exactly one place (host, hyp, a VM's page, a guest's, leaked), and enters one only through the calls that fill it",
  checkState(s) {
    const b = buffers(s.w);
    if (!sameWords(b.post, s.s)) {
      b.found = places(s, b.after);
      b.post.set(s.s);
    }
    return b.found;
  },
  checkStep(pre, step, _ret, post) {
    if (!placesMayDiffer(pre, post)) return null; // most steps fail, or change no place
    const b = buffers(pre.w);
    const { before, after } = b;
    if (!sameWords(b.pre, pre.s)) {
      places(pre, before);
      b.pre.set(pre.s);
    }
    if (!sameWords(b.post, post.s)) {
      b.found = places(post, after);
      b.post.set(post.s);
    }
    for (let p = 0; p < pre.w.pages; p++) {
      if (before[p] === after[p] || enters(step.action, after[p])) continue;
      return finding(`pfn ${p}: ${step.action.name} moved it from ${PLACE_NAME[before[p]]} to ${PLACE_NAME[after[p]]}`, { pages: [p] });
    }
    return null;
  },
};

export default property;
