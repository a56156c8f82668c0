import { describe, expect, it } from "vitest";
import { ACTION_BY_NAME, stepOf, type Step } from "../model/actions.js";
import type { Args } from "../model/args.js";
import type { Ret } from "../model/errno.js";
import { Pkvm } from "../model/pkvm.js";
import { Contents, Owner, PageState, PkvmState, PROT_R, PROT_RWX, PROT_W, VmLife } from "../model/state.js";
import type { Finding, Property } from "../properties/property.js";
import { PROPERTIES, propertyById } from "../properties/registry.js";
import { Machine } from "./helpers.js";

const RW = PROT_R | PROT_W;

/** Two VMs of each kind, MMIO, a NOMAP page, 2-page blocks: the walk below uses all of it. */
const CONFIG = {
  pages: 24,
  mmio: [[22, 24]],
  nomap: [21],
  hypPages: [0],
  blockPages: 2,
  maxShareCount: 4,
  vms: [
    { protected: true, vcpus: 2, gfns: 4 },
    { protected: false, vcpus: 1, gfns: 4 },
  ],
};

const MEMCACHE_CONFIG = {
  pages: 10,
  hypPages: [0],
  blockPages: 2,
  memcache: true,
  vms: [
    { protected: true, vcpus: 1, gfns: 4 },
    { protected: false, vcpus: 1, gfns: 2 },
  ],
};

/** "id: message" of every property the state (and, given a pre-state, the step) violates. */
function violations(post: PkvmState, pre?: PkvmState, step?: Step, ret?: Ret): string[] {
  const out: string[] = [];
  for (const p of PROPERTIES) {
    const fs = [p.checkState?.(post), pre && step && ret && p.checkStep?.(pre, step, ret, post)];
    for (const f of fs) if (f) out.push(`${p.id}: ${f.message}`);
  }
  return out;
}

type Walk = [name: string, args: Partial<Args>, expect: Ret][];

/** Runs the walk, asserting every return and that no property fires on any state or step. */
function walk(m: Machine, steps: Walk): void {
  for (const [name, args, want] of steps) {
    const pre = new PkvmState(m.engine.world, m.state);
    const ret = m.run(name, args);
    const post = new PkvmState(m.engine.world, m.state);
    expect({ step: name, args, ret }).toEqual({ step: name, args, ret: want });
    expect({ step: name, args, violations: violations(post, pre, stepOf(name, args), ret) }).toEqual({ step: name, args, violations: [] });
  }
}

const byId = (id: string): Property => {
  const p = propertyById(id);
  if (!p) throw new Error(`no property ${id}`);
  return p;
};

function expectFinding(f: Finding | null | undefined, pfn: number): void {
  expect(f, "the property should fire").toBeTruthy();
  expect(f!.message).toMatch(new RegExp(`\\bpfn ${pfn}\\b`));
  expect(f!.pages).toContain(pfn);
}

describe("property registry", () => {
  it("loads every invariant of semantics section 6 under its fixed id", () => {
    const ids = PROPERTIES.map((p) => p.id);
    for (const id of [
      "unique-owner",
      "share-consistency",
      "nopage-means-foreign",
      "host-stage2-consistency",
      "hyp-stage1-consistency",
      "host-cannot-access-guest",
      "guest-cannot-access-host",
      "no-reuse-while-mapped",
      "scrub-before-return",
      "failed-call-no-op",
      "lifecycle",
      "leaked-pages-inert",
      "no-hyp-panic",
    ]) {
      expect(ids).toContain(id);
    }
    const numbered = new Set(PROPERTIES.flatMap((p) => (p.invariant ? [p.invariant] : [])));
    for (const n of [1, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) expect(numbered).toContain(n);
  });

  it("limits each step check to actions that exist", () => {
    for (const p of PROPERTIES) for (const a of p.actions ?? []) expect(ACTION_BY_NAME.has(a), `${p.id}: ${a}`).toBe(true);
  });
});

describe("properties hold on legal runs", () => {
  it("hold in the initial state of several configs", () => {
    const configs = [
      CONFIG,
      MEMCACHE_CONFIG,
      { pages: 1 },
      { pages: 4, hypPages: [0, 3], mmio: [[1, 2]], vms: [{ protected: false, vcpus: 1, gfns: 1 }] },
    ];
    for (const c of configs) {
      const m = new Machine(c);
      expect(violations(new PkvmState(m.engine.world, m.state))).toEqual([]);
    }
  });

  it("hold along a walk through every kind of sharing, teardown, leaks and slot reuse", () => {
    const m = new Machine(CONFIG);
    walk(m, [
      // hyp share, pinned twice; a pinned page cannot be unshared
      ["host_share_hyp", { pfn: 1 }, "0"],
      ["hyp_pin_shared_mem", { pfn: 1, nr_pages: 1 }, "0"],
      ["hyp_pin_shared_mem", { pfn: 1, nr_pages: 1 }, "0"],
      ["host_unshare_hyp", { pfn: 1 }, "-EBUSY"],
      ["hyp_unpin_shared_mem", { pfn: 1, nr_pages: 1 }, "0"],
      ["hyp_unpin_shared_mem", { pfn: 1, nr_pages: 1 }, "0"],
      ["host_unshare_hyp", { pfn: 1 }, "0"],
      ["host_share_hyp", { pfn: 0 }, "-EPERM"],
      // FF-A, and a range across two regions
      ["host_share_ffa", { pfn: 2, nr_pages: 2 }, "0"],
      ["host_share_ffa", { pfn: 20, nr_pages: 2 }, "-EINVAL"],
      // host accesses, MMIO included; the hyp's own page aborts
      ["host_write", { pfn: 4 }, "0"],
      ["host_read", { pfn: 22 }, "0"],
      ["host_read", { pfn: 0 }, "-EFAULT"],
      ["host_donate_hyp", { pfn: 19, nr_pages: 1 }, "0"],
      ["hyp_donate_host", { pfn: 19, nr_pages: 1 }, "0"],
      // a non-protected VM borrows a block and one page twice
      ["init_vm", { vm: 1, pfn: 5 }, "0"],
      ["init_vcpu", { vm: 1, vcpu: 0, pfn: 6 }, "0"],
      ["vcpu_load", { vm: 1, vcpu: 0 }, "0"],
      ["host_share_guest", { vm: 1, pfn: 8, gfn: 0, nr_pages: 2, prot: RW }, "0"],
      ["host_share_guest", { vm: 1, pfn: 10, gfn: 2, nr_pages: 1, prot: PROT_R }, "0"],
      ["host_share_guest", { vm: 1, pfn: 2, gfn: 3, nr_pages: 1, prot: PROT_R }, "-EPERM"], // FF-A's (B6)
      ["host_unshare_ffa", { pfn: 2, nr_pages: 2 }, "0"],
      ["host_share_guest", { vm: 1, pfn: 10, gfn: 3, nr_pages: 1, prot: PROT_R }, "0"],
      ["guest_write", { vm: 1, gfn: 0 }, "0"],
      ["guest_read", { vm: 1, gfn: 2 }, "0"],
      ["guest_write", { vm: 1, gfn: 2 }, "-EFAULT"],
      ["host_relax_perms_guest", { vm: 1, gfn: 2, prot: RW }, "0"],
      ["guest_write", { vm: 1, gfn: 2 }, "0"],
      ["host_wrprotect_guest", { vm: 1, gfn: 0, nr_pages: 2 }, "0"],
      ["host_test_clear_young_guest", { vm: 1, gfn: 0, nr_pages: 2, mkold: true }, "0"],
      ["host_mkyoung_guest", { vm: 1, gfn: 0 }, "0"],
      ["host_read", { pfn: 8 }, "0"],
      ["host_unshare_guest", { vm: 1, gfn: 0, nr_pages: 1 }, "-E2BIG"],
      ["host_unshare_guest", { vm: 1, gfn: 0, nr_pages: 2 }, "0"],
      ["host_unshare_guest", { vm: 1, gfn: 3, nr_pages: 1 }, "0"],
      ["vcpu_put", {}, "0"],
      // a protected VM: failed inits hand their page back zeroed
      ["init_vm", { vm: 0, pfn: 11 }, "0"],
      ["init_vm", { vm: 0, pfn: 12 }, "-EINVAL"],
      ["init_vcpu", { vm: 0, vcpu: 0, pfn: 12 }, "0"],
      ["init_vcpu", { vm: 0, vcpu: 0, pfn: 13 }, "-EINVAL"],
      ["init_vcpu", { vm: 0, vcpu: 1, pfn: 0 }, "-ENOMEM"],
      ["vcpu_load", { vm: 0, vcpu: 1 }, "-EINVAL"],
      ["vcpu_load", { vm: 0, vcpu: 0 }, "0"],
      ["host_donate_guest", { vm: 0, pfn: 13, gfn: 0 }, "0"],
      ["host_donate_guest", { vm: 0, pfn: 14, gfn: 1 }, "0"],
      ["host_donate_guest", { vm: 0, pfn: 15, gfn: 2 }, "0"],
      ["host_donate_guest", { vm: 0, pfn: 16, gfn: 2 }, "-EPERM"],
      ["host_donate_guest", { vm: 0, pfn: 16, gfn: 3 }, "0"],
      ["guest_write", { vm: 0, gfn: 0 }, "0"],
      ["host_read", { pfn: 13 }, "-EFAULT"],
      // the guest shares a page with the host and takes it back
      ["guest_write", { vm: 0, gfn: 1 }, "0"],
      ["guest_share_host", { vm: 0, gfn: 1 }, "0"],
      ["host_read", { pfn: 14 }, "0"],
      ["host_write", { pfn: 14 }, "0"],
      ["guest_unshare_host", { vm: 0, gfn: 1 }, "0"],
      ["host_read", { pfn: 14 }, "-EFAULT"],
      // force reclaim poisons the guest's frame and scrubs the page
      ["host_force_reclaim_page_guest", { pfn: 13 }, "0"],
      ["guest_read", { vm: 0, gfn: 0 }, "-EFAULT"],
      ["host_read", { pfn: 13 }, "0"],
      ["guest_relinquish", { vm: 0, gfn: 2 }, "0"],
      ["guest_share_host", { vm: 0, gfn: 1 }, "0"],
      ["guest_write", { vm: 0, gfn: 3 }, "0"],
      ["host_reclaim_page_guest", { vm: 0, gfn: 1 }, "-EINVAL"],
      // teardown with reclaim: shared, poisoned and private pages come back
      ["start_teardown_vm", { vm: 0 }, "-EINVAL"],
      ["vcpu_put", {}, "0"],
      ["start_teardown_vm", { vm: 0 }, "0"],
      ["vcpu_load", { vm: 0, vcpu: 0 }, "-EINVAL"],
      ["host_reclaim_page_guest", { vm: 0, gfn: 1 }, "0"],
      ["host_reclaim_page_guest", { vm: 0, gfn: 0 }, "0"],
      ["host_reclaim_page_guest", { vm: 0, gfn: 3 }, "0"],
      ["host_read", { pfn: 16 }, "0"],
      ["finalize_teardown_vm", { vm: 0 }, "0"],
      // teardown with a leak: the non-protected VM still borrows pfn 10
      ["start_teardown_vm", { vm: 1 }, "0"],
      ["finalize_teardown_vm", { vm: 1 }, "0"],
      // slot reuse, then a protected leak: a private page and a page shared with the host
      ["init_vm", { vm: 0, pfn: 11 }, "0"],
      ["init_vcpu", { vm: 0, vcpu: 0, pfn: 12 }, "0"],
      ["vcpu_load", { vm: 0, vcpu: 0 }, "0"],
      ["host_donate_guest", { vm: 0, pfn: 13, gfn: 0 }, "0"],
      ["guest_write", { vm: 0, gfn: 0 }, "0"],
      ["host_donate_guest", { vm: 0, pfn: 14, gfn: 1 }, "0"],
      ["guest_share_host", { vm: 0, gfn: 1 }, "0"],
      ["vcpu_put", {}, "0"],
      ["start_teardown_vm", { vm: 0 }, "0"],
      ["finalize_teardown_vm", { vm: 0 }, "0"],
      ["host_read", { pfn: 13 }, "-EFAULT"],
      ["host_read", { pfn: 14 }, "0"],
      ["host_force_reclaim_page_guest", { pfn: 13 }, "-EAGAIN"],
      // the next VM in the slot inherits the stale annotation
      ["init_vm", { vm: 0, pfn: 11 }, "0"],
      ["host_force_reclaim_page_guest", { pfn: 13 }, "-ENOENT"],
      ["init_vm", { vm: 1, pfn: 5 }, "0"],
      ["init_vcpu", { vm: 1, vcpu: 0, pfn: 6 }, "0"],
      ["vcpu_load", { vm: 1, vcpu: 0 }, "0"],
      ["host_share_guest", { vm: 1, pfn: 10, gfn: 0, nr_pages: 1, prot: RW }, "0"],
      ["host_unshare_guest", { vm: 1, gfn: 0, nr_pages: 1 }, "0"],
      ["host_share_guest", { vm: 1, pfn: 14, gfn: 1, nr_pages: 1, prot: RW }, "-EPERM"],
      ["host_donate_hyp", { pfn: 13, nr_pages: 1 }, "-EPERM"],
      ["vcpu_put", {}, "0"],
    ]);
    const k = m.k;
    expect([10, 13, 14].map((p) => k.leaked(p))).toEqual([true, true, true]);
    expect(k.hostShareGuestCount(10)).toBe(1);
  });

  it("hold along a walk through the vCPU memcache and its teardown", () => {
    const m = new Machine(MEMCACHE_CONFIG);
    walk(m, [
      ["init_vm", { vm: 0, pfn: 1 }, "0"],
      ["init_vcpu", { vm: 0, vcpu: 0, pfn: 2 }, "0"],
      ["vcpu_load", { vm: 0, vcpu: 0 }, "0"],
      ["host_donate_guest", { vm: 0, pfn: 3, gfn: 0 }, "-ENOMEM"],
      ["host_topup_memcache", { vm: 0, vcpu: 0, pfn: 4 }, "0"],
      ["host_topup_memcache", { vm: 0, vcpu: 0, pfn: 5 }, "0"],
      ["host_donate_guest", { vm: 0, pfn: 3, gfn: 0 }, "0"],
      ["guest_write", { vm: 0, gfn: 0 }, "0"],
      ["vcpu_put", {}, "0"],
      ["start_teardown_vm", { vm: 0 }, "0"],
      ["host_reclaim_page_guest", { vm: 0, gfn: 0 }, "0"],
      ["finalize_teardown_vm", { vm: 0 }, "0"],
      ["host_read", { pfn: 5 }, "0"],
      ["init_vm", { vm: 1, pfn: 6 }, "0"],
      ["init_vcpu", { vm: 1, vcpu: 0, pfn: 7 }, "0"],
      ["vcpu_load", { vm: 1, vcpu: 0 }, "0"],
      ["host_topup_memcache", { vm: 1, vcpu: 0, pfn: 8 }, "0"],
      ["host_share_guest", { vm: 1, pfn: 2, gfn: 0, nr_pages: 2, prot: PROT_RWX }, "0"],
      ["host_share_guest", { vm: 1, pfn: 4, gfn: 1, nr_pages: 1, prot: PROT_R }, "-EPERM"],
      ["vcpu_put", {}, "0"],
      ["start_teardown_vm", { vm: 1 }, "0"],
      ["finalize_teardown_vm", { vm: 1 }, "0"],
    ]);
    expect(m.k.leaked(2) && m.k.leaked(3)).toBe(true);
  });
});

// ---- each property catches a hand-made bad state or step ------------------------------------

/**
 * A legal state with a little of everything: pfn 1 shared with hyp and pinned, pfn 2 with FF-A;
 * vm 1 (non-protected) borrows pfns 8-9 as a block at gfns 0-1 and pfn 10 at gfn 2; vm 0
 * (protected, loaded) owns pfn 13 at gfn 0 with its data in it and shares pfn 14 (gfn 1) back.
 * pfn 4 is host OWNED with host data. Metadata: vm 1 at 5 (vcpu 6), vm 0 at 11 (vcpu 12).
 */
function populated(): Machine {
  const m = new Machine(CONFIG);
  walk(m, [
    ["host_share_hyp", { pfn: 1 }, "0"],
    ["hyp_pin_shared_mem", { pfn: 1, nr_pages: 1 }, "0"],
    ["host_share_ffa", { pfn: 2, nr_pages: 1 }, "0"],
    ["host_write", { pfn: 4 }, "0"],
    ["init_vm", { vm: 1, pfn: 5 }, "0"],
    ["init_vcpu", { vm: 1, vcpu: 0, pfn: 6 }, "0"],
    ["vcpu_load", { vm: 1, vcpu: 0 }, "0"],
    ["host_share_guest", { vm: 1, pfn: 8, gfn: 0, nr_pages: 2, prot: RW }, "0"],
    ["host_share_guest", { vm: 1, pfn: 10, gfn: 2, nr_pages: 1, prot: RW }, "0"],
    ["vcpu_put", {}, "0"],
    ["init_vm", { vm: 0, pfn: 11 }, "0"],
    ["init_vcpu", { vm: 0, vcpu: 0, pfn: 12 }, "0"],
    ["vcpu_load", { vm: 0, vcpu: 0 }, "0"],
    ["host_donate_guest", { vm: 0, pfn: 13, gfn: 0 }, "0"],
    ["guest_write", { vm: 0, gfn: 0 }, "0"],
    ["host_donate_guest", { vm: 0, pfn: 14, gfn: 1 }, "0"],
    ["guest_share_host", { vm: 0, gfn: 1 }, "0"],
  ]);
  return m;
}

const BASE = populated();

/** A copy of the populated state, edited through the kernel's own setters. */
function bad(edit: (k: Pkvm) => void): Pkvm {
  const k = new Pkvm(BASE.engine.world, BASE.state.slice());
  edit(k);
  return k;
}

const good = (): Pkvm => bad(() => {});

/** checkState of one property on an edited state. */
const stateFinding = (id: string, edit: (k: Pkvm) => void): Finding | null => byId(id).checkState!(bad(edit));

interface Edits {
  pre?: (k: Pkvm) => void;
  post?: (k: Pkvm) => void;
}

/**
 * checkStep of one property on a made-up step that returned `ret`: the pre-state is the
 * populated state edited by `pre`, the post-state a copy of that pre-state edited by `post`.
 */
function stepFinding(id: string, name: string, args: Partial<Args>, ret: Ret, edits: Edits = {}): Finding | null {
  const before = bad(edits.pre ?? (() => {}));
  const after = new Pkvm(before.w, before.s.slice());
  edits.post?.(after);
  return byId(id).checkStep!(before, stepOf(name, args), ret, after);
}

describe("each property catches a bad state or step", () => {
  it("the populated state itself is clean", () => {
    expect(violations(good())).toEqual([]);
  });

  it("unique-owner: a page with two owners, and one with none", () => {
    expectFinding(stateFinding("unique-owner", (k) => k.setHostState(13, PageState.OWNED)), 13);
    expectFinding(stateFinding("unique-owner", (k) => k.setHostState(4, PageState.NOPAGE)), 4);
    const f = stateFinding("unique-owner", (k) => k.setGuestMapping(1, 3, 13, PageState.OWNED, PROT_RWX, false));
    expectFinding(f, 13);
    expect(f!.message).toMatch(/2 owners/);
  });

  it("share-consistency: each of invariants 2-5", () => {
    expectFinding(stateFinding("share-consistency", (k) => k.setFfaShared(1, true)), 1); // 2
    expectFinding(stateFinding("share-consistency", (k) => k.setHostShareGuestCount(10, 2)), 10); // 3
    expectFinding(stateFinding("share-consistency", (k) => k.setGuestMapping(0, 3, 10, PageState.SHARED_BORROWED, PROT_R, false)), 10); // 3: protected borrower
    expectFinding(stateFinding("share-consistency", (k) => k.setFfaShared(2, false)), 2); // 4: SO shared with nobody
    expectFinding(stateFinding("share-consistency", (k) => k.setHostState(14, PageState.NOPAGE)), 14); // 5
    expectFinding(stateFinding("share-consistency", (k) => k.setHostState(4, PageState.SHARED_BORROWED)), 4); // 5
  });

  it("nopage-means-foreign: host NOPAGE with no foreign owner, and host access to a guest's page", () => {
    expectFinding(stateFinding("nopage-means-foreign", (k) => k.setHostState(4, PageState.NOPAGE)), 4);
    expectFinding(stateFinding("nopage-means-foreign", (k) => k.setHostState(13, PageState.SHARED_BORROWED)), 13);
  });

  it("host-stage2-consistency: a NOPAGE page left mapped, and an annotation naming the wrong owner", () => {
    expectFinding(stateFinding("host-stage2-consistency", (k) => k.setHostS2Idmap(13, PROT_RWX)), 13);
    const f = stateFinding("host-stage2-consistency", (k) => k.setHostS2Annotation(13, Owner.GUEST, 0, 3));
    expectFinding(f, 13);
    expect(f!.frames).toEqual([[0, 3]]);
    expectFinding(stateFinding("host-stage2-consistency", (k) => k.setHostS2Annotation(11, Owner.GUEST, 0, 0)), 11);
    expectFinding(stateFinding("host-stage2-consistency", (k) => k.setHostS2Annotation(4, Owner.HYP)), 4);
    expectFinding(stateFinding("host-stage2-consistency", (k) => k.setHostS2Annotation(22, Owner.HYP)), 22);
  });

  it("hyp-stage1-consistency: a stray EL2 mapping, an unpinned mapping, a stray pin", () => {
    expectFinding(stateFinding("hyp-stage1-consistency", (k) => k.setHypS1Mapped(4, true)), 4);
    expectFinding(stateFinding("hyp-stage1-consistency", (k) => k.setRefcount(1, 0)), 1);
    expectFinding(stateFinding("hyp-stage1-consistency", (k) => k.setHypS1Mapped(11, false)), 11);
    expectFinding(stateFinding("hyp-stage1-consistency", (k) => k.setRefcount(4, 1)), 4);
  });

  it("host-cannot-access-guest: a guest's private page host-reachable, and a read that got through", () => {
    expectFinding(stateFinding("host-cannot-access-guest", (k) => k.setHostS2Empty(13)), 13);
    expectFinding(stateFinding("host-cannot-access-guest", (k) => k.setHostS2Idmap(11, PROT_RWX)), 11);
    expectFinding(stepFinding("host-cannot-access-guest", "host_read", { pfn: 13 }, "0"), 13);
    expectFinding(stepFinding("host-cannot-access-guest", "host_write", { pfn: 12 }, "0"), 12);
    expect(stepFinding("host-cannot-access-guest", "host_read", { pfn: 13 }, "-EFAULT")).toBeNull();
    expect(stepFinding("host-cannot-access-guest", "host_read", { pfn: 14 }, "0")).toBeNull();
  });

  it("guest-cannot-access-host: leaves reaching host, hyp and other guests' pages, and accesses through them", () => {
    const host = (k: Pkvm) => k.setGuestMapping(1, 3, 4, PageState.SHARED_BORROWED, RW, false);
    expectFinding(stateFinding("guest-cannot-access-host", host), 4);
    expectFinding(stateFinding("guest-cannot-access-host", (k) => k.setGuestMapping(1, 3, 11, PageState.SHARED_BORROWED, RW, false)), 11);
    expectFinding(stateFinding("guest-cannot-access-host", (k) => k.setGuestMapping(1, 3, 13, PageState.SHARED_BORROWED, RW, false)), 13);
    expectFinding(stateFinding("guest-cannot-access-host", (k) => k.setGuestMapping(1, 3, 1, PageState.SHARED_BORROWED, RW, false)), 1);
    expectFinding(stateFinding("guest-cannot-access-host", (k) => k.setGuestMapping(0, 3, 23, PageState.OWNED, RW, false)), 23);
    const f = stepFinding("guest-cannot-access-host", "guest_read", { vm: 1, gfn: 3 }, "0", { pre: host });
    expectFinding(f, 4);
    expect(f!.frames).toEqual([[1, 3]]);
    expect(stepFinding("guest-cannot-access-host", "guest_read", { vm: 0, gfn: 3 }, "0")?.message).toMatch(/vm 0 gfn 3/);
    expect(stepFinding("guest-cannot-access-host", "guest_write", { vm: 0, gfn: 0 }, "0")).toBeNull();
  });

  it("no-reuse-while-mapped: an owned page still in another's table, a hyp page used twice", () => {
    expectFinding(stateFinding("no-reuse-while-mapped", (k) => k.setHypS1Mapped(13, true)), 13);
    expectFinding(stateFinding("no-reuse-while-mapped", (k) => k.setGuestMapping(1, 3, 11, PageState.SHARED_BORROWED, RW, false)), 11);
    expectFinding(stateFinding("no-reuse-while-mapped", (k) => k.setVcpuPfn(0, 1, 11)), 11);
    expectFinding(stateFinding("no-reuse-while-mapped", (k) => k.setVmMetaPfn(1, 4)), 4);
  });

  it("scrub-before-return: guest or hyp data on a host-reachable page, and a read of it", () => {
    expectFinding(stateFinding("scrub-before-return", (k) => k.setContents(4, Contents.GUEST, 0)), 4);
    expectFinding(stateFinding("scrub-before-return", (k) => k.setContents(14, Contents.HYP)), 14);
    expectFinding(stepFinding("scrub-before-return", "host_read", { pfn: 4 }, "0", { pre: (k) => k.setContents(4, Contents.GUEST, 0) }), 4);
    expect(stepFinding("scrub-before-return", "host_read", { pfn: 13 }, "-EFAULT")).toBeNull();
    expect(stepFinding("scrub-before-return", "host_read", { pfn: 14 }, "0")).toBeNull();
  });

  it("failed-call-no-op: a failed call that changed a word, a failed init that kept data", () => {
    expectFinding(stepFinding("failed-call-no-op", "host_share_hyp", { pfn: 4 }, "-EPERM", { post: (k) => k.setHostState(4, PageState.SHARED_OWNED) }), 4);
    const panic = stepFinding("failed-call-no-op", "host_unshare_guest", { vm: 1, gfn: 2, nr_pages: 1 }, "PANIC", { post: (k) => k.clearGuestEntry(1, 2) });
    expect(panic?.message).toMatch(/vm 1 gfn 2/);
    expect(panic?.frames).toEqual([[1, 2]]);
    // pfn 7: host OWNED, host data, never touched (empty host stage-2 entry)
    const handBack = (zero: boolean) => (k: Pkvm) => {
      k.setHostS2Idmap(7, PROT_RWX);
      if (zero) k.zeroPage(7);
    };
    const kept = stepFinding("failed-call-no-op", "init_vm", { vm: 0, pfn: 7 }, "-EINVAL", { post: handBack(false) });
    expectFinding(kept, 7);
    expect(kept!.message).toMatch(/not zeroed/);
    expect(stepFinding("failed-call-no-op", "init_vm", { vm: 0, pfn: 7 }, "-EINVAL", { post: handBack(true) })).toBeNull();
    expectFinding(stepFinding("failed-call-no-op", "init_vcpu", { vm: 0, vcpu: 1, pfn: 13 }, "-EINVAL", { post: (k) => k.setHostState(13, PageState.OWNED) }), 13);
    expectFinding(stepFinding("failed-call-no-op", "init_vm", { vm: 0, pfn: 5 }, "-EINVAL", { post: (k) => k.setHostState(4, PageState.NOPAGE) }), 4);
  });

  it("lifecycle: an absent slot with leaves, a dying VM loaded, steps that needed another VM state, a finalize that loses a page", () => {
    expect(stateFinding("lifecycle", (k) => k.setVmLife(1, VmLife.ABSENT))?.message).toMatch(/vm 1: ABSENT but gfn 0/);
    expect(stateFinding("lifecycle", (k) => k.setVmLife(0, VmLife.DYING))?.message).toMatch(/vm 0 vcpu 0 loaded but the VM is DYING/);
    expect(stepFinding("lifecycle", "host_reclaim_page_guest", { vm: 0, gfn: 0 }, "0")?.message).toMatch(/vm 0.*LIVE/);
    expect(stepFinding("lifecycle", "host_share_guest", { vm: 1, pfn: 4, gfn: 3, nr_pages: 1, prot: RW }, "0")?.message).toMatch(/no vCPU of vm 1/);
    expect(stepFinding("lifecycle", "host_donate_guest", { vm: 0, pfn: 4, gfn: 3 }, "0")).toBeNull();
    // finalize from a legal dying state, then lose the leak mark of the page the guest owned
    const m = new Machine(CONFIG);
    m.state = BASE.state.slice();
    expect([m.run("vcpu_put"), m.run("start_teardown_vm", { vm: 0 })]).toEqual(["0", "0"]);
    const pre = new PkvmState(m.engine.world, m.state);
    expect(m.run("finalize_teardown_vm", { vm: 0 })).toBe("0");
    const post = new Pkvm(m.engine.world, m.state.slice());
    const finalize = stepOf("finalize_teardown_vm", { vm: 0 });
    expect(byId("lifecycle").checkStep!(pre, finalize, "0", post)).toBeNull();
    post.setLeaked(13, false);
    const f = byId("lifecycle").checkStep!(pre, finalize, "0", post);
    expectFinding(f, 13);
    expect(f!.frames).toEqual([[0, 0]]);
    post.setLeaked(13, true);
    post.setHostState(11, PageState.NOPAGE);
    expectFinding(byId("lifecycle").checkStep!(pre, finalize, "0", post), 11);
  });

  it("leaked-pages-inert: a leaked page given back to the host, to the hyp, or made reachable", () => {
    const m = new Machine(CONFIG);
    m.state = BASE.state.slice();
    for (const [name, args] of [["vcpu_put", {}], ["start_teardown_vm", { vm: 0 }], ["finalize_teardown_vm", { vm: 0 }]] as const) {
      expect(m.run(name, args)).toBe("0");
    }
    const leaked = (edit: (k: Pkvm) => void): Finding | null => {
      const k = new Pkvm(m.engine.world, m.state.slice());
      edit(k);
      return byId("leaked-pages-inert").checkState!(k);
    };
    expect(leaked(() => {})).toBeNull();
    expectFinding(leaked((k) => k.setHostState(13, PageState.OWNED)), 13);
    expectFinding(leaked((k) => k.setHypState(13, PageState.OWNED)), 13);
    expectFinding(leaked((k) => k.setHostS2Empty(13)), 13);
    expectFinding(leaked((k) => k.setHostS2Idmap(13, PROT_RWX)), 13);
    expectFinding(leaked((k) => k.setGuestMapping(1, 3, 14, PageState.OWNED, PROT_RWX, false)), 14);
  });

  it("no-hyp-panic: an adversary's step that panics, but not the hyp's own", () => {
    const f = stepFinding("no-hyp-panic", "host_force_reclaim_page_guest", { pfn: 13 }, "PANIC");
    expect(f?.message).toMatch(/pfn=13/);
    expect(f?.pages).toEqual([13]);
    expect(stepFinding("no-hyp-panic", "hyp_unpin_shared_mem", { pfn: 4, nr_pages: 1 }, "PANIC")).toBeNull();
    expect(stepFinding("no-hyp-panic", "host_unshare_guest", { vm: 1, gfn: 2, nr_pages: 1 }, "PANIC")?.frames).toEqual([[1, 2]]);
  });
});

describe("nomap-stays-host", () => {
  const nomap = propertyById("nomap-stays-host")!;
  const config = { pages: 4, nomap: [2], vms: [] };

  it("holds on the initial state and catches a NOMAP page shared with hyp or FF-A", () => {
    const m = new Machine(config);
    expect(nomap.checkState!(m.k)).toBeNull();
    expect(m.run("host_share_hyp", { pfn: 2 })).toBe("-EPERM");
    for (const [set, message] of [
      [(k: PkvmState) => k.setHostState(2, PageState.SHARED_OWNED), /^pfn 2: MEMBLOCK_NOMAP but host SO/],
      [(k: PkvmState) => k.setFfaShared(2, true), /^pfn 2: MEMBLOCK_NOMAP but FF-A shared/],
    ] as const) {
      const bad = new PkvmState(m.engine.world, m.state.slice());
      set(bad);
      const f = nomap.checkState!(bad);
      expect(f?.message).toMatch(message);
      expect(f?.pages).toEqual([2]);
    }
  });
});
