// Branch coverage, as TLC's coverage report gives it: a transition's branches are the returns it
// can give (its success, each errno, PANIC). BRANCHES lists them per action, read off the
// model's transitions and the helpers they call; test/branches.test.ts holds the list to the
// model (every return any engine sees is listed). The exhaustive search of a world counts the
// transitions of each (action, return); a listed branch it never took is dead in that world:
// the world is too small for it, or the adversary's alphabet cannot reach it.

import { ACTIONS } from "../../model/actions.js";
import { RETURNS, type Ret } from "../../model/errno.js";
import type { World } from "../../model/world.js";
import { alphabet } from "../alphabet.js";
import { Engine } from "../engine.js";
import { bfs, type StopReason } from "./bfs.js";

const HOST_CHECK: readonly Ret[] = ["-EINVAL", "-EPERM"]; // allowed memory, then the page states
const GUEST_LEAF: readonly Ret[] = ["-ERANGE", "-EHWPOISON", "-ENOENT", "-E2BIG"];

/** The returns each action's transition can give, success first. */
export const BRANCHES: Readonly<Record<string, readonly Ret[]>> = {
  host_share_hyp: ["0", "-EPERM"], // one page: never across a region boundary
  host_unshare_hyp: ["0", "-EPERM", "-EBUSY"],
  host_donate_hyp: ["0", ...HOST_CHECK],
  hyp_donate_host: ["0", ...HOST_CHECK, "-EBUSY"],
  hyp_pin_shared_mem: ["0", ...HOST_CHECK, "PANIC"],
  hyp_unpin_shared_mem: ["0", "PANIC"],
  host_share_ffa: ["0", ...HOST_CHECK],
  host_unshare_ffa: ["0", ...HOST_CHECK],
  host_share_guest: ["0", ...HOST_CHECK, "-ERANGE", "-EBUSY", "-ENOMEM"],
  host_unshare_guest: ["0", "-EINVAL", "-ERANGE", "-ENOENT", "-E2BIG", "-EPERM", "PANIC"],
  host_relax_perms_guest: ["0", "-EINVAL", "-ERANGE", "-EAGAIN"],
  host_wrprotect_guest: ["0", "-EINVAL", "-ERANGE"],
  host_test_clear_young_guest: ["0", "-EINVAL", "PANIC"],
  host_mkyoung_guest: ["0", "-EINVAL"],
  host_donate_guest: ["0", ...HOST_CHECK, "-ERANGE", "-ENOMEM"],
  host_reclaim_page_guest: ["0", "-EINVAL", "-ERANGE", "-ENOENT", "-E2BIG", "-EPERM"],
  host_force_reclaim_page_guest: ["0", "-EFAULT", "-EAGAIN", "-EPERM", "-EHWPOISON", "-ENOENT", "-E2BIG", "PANIC"],
  init_vm: ["0", "-EINVAL", "-ENOMEM"],
  init_vcpu: ["0", "-ENOMEM", "-ENOENT", "-EINVAL"],
  vcpu_load: ["0", "-EINVAL"],
  vcpu_put: ["0", "-EINVAL"],
  start_teardown_vm: ["0", "-EINVAL"],
  finalize_teardown_vm: ["0", "-EINVAL"],
  host_topup_memcache: ["0", "-ENOENT", ...HOST_CHECK],
  guest_share_host: ["0", "-EINVAL", ...GUEST_LEAF, "-EPERM"],
  guest_unshare_host: ["0", "-EINVAL", ...GUEST_LEAF, "-EPERM"],
  guest_relinquish: ["0", "-EINVAL", "-E2BIG", "-EPERM"], // past the guest: "0" (semantics 10.1's -ERANGE is not modelled yet)
  host_read: ["0", "-EFAULT"],
  host_write: ["0", "-EFAULT"],
  guest_read: ["0", "-EFAULT"],
  guest_write: ["0", "-EFAULT"],
};

/** "host_share_guest -EBUSY": how a branch is named in reports and sets. */
export const branchKey = (action: string, ret: Ret): string => `${action} ${ret}`;

/** The branches of an engine's coverage counts (coverage[action in ACTIONS][return in RETURNS]). */
export function branchesOf(coverage: readonly (readonly number[])[]): Set<string> {
  const out = new Set<string>();
  ACTIONS.forEach((a, i) => RETURNS.forEach((r, j) => coverage[i][j] > 0 && out.add(branchKey(a.name, r))));
  return out;
}

export interface ExhaustiveBranches {
  /** The branches the search took at least once. */
  readonly reached: Set<string>;
  readonly stop: StopReason;
  readonly states: number;
}

/** The branches the exhaustive search of `w` takes (no property checked: coverage only). */
export function exhaustiveBranches(w: World, opts: { timeLimitMs?: number; allowInternal?: boolean } = {}): ExhaustiveBranches {
  const r = bfs(new Engine(w), alphabet(w, { allowInternal: opts.allowInternal }), { properties: [], timeLimitMs: opts.timeLimitMs });
  return { reached: branchesOf(r.coverage), stop: r.stop, states: r.states };
}

/** Per action the alphabet of `w` has, the listed returns not in `reached`. */
export function deadBranches(w: World, reached: ReadonlySet<string>, opts: { allowInternal?: boolean } = {}): { action: string; dead: Ret[] }[] {
  const actions = new Set(alphabet(w, opts).map((s) => s.action.name));
  return ACTIONS.filter((a) => actions.has(a.name))
    .map((a) => ({ action: a.name, dead: BRANCHES[a.name].filter((r) => !reached.has(branchKey(a.name, r))) }))
    .filter((d) => d.dead.length > 0);
}
