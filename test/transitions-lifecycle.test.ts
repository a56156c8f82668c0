// The VM lifecycle (semantics 5, 5b): init_vm / init_vcpu with their rollback, vCPU load and
// put, split teardown, leaks, slot reuse, and the vCPU memcache with `memcache: true`.

import { describe, expect, it } from "vitest";
import type { Args } from "../model/args.js";
import type { Ret } from "../model/errno.js";
import { Contents, Owner, PageState, PROT_RWX, S2, VmLife } from "../model/state.js";
import {
  BOOT_NPVM,
  BOOT_PVM,
  expectOk,
  expectRefused,
  machineAfter,
  Machine,
  NPVM,
  pages,
  pageView,
  PVM,
  TEST_WORLD,
  touched,
  type Call,
  type PageView,
} from "./helpers.js";

const { NOPAGE, OWNED, SHARED_OWNED, SHARED_BORROWED } = PageState;
const MEMCACHE_WORLD = { ...TEST_WORLD, memcache: true };
const NO_VCPU_VM = 2;
const NO_VCPU_WORLD = { ...TEST_WORLD, vms: [...TEST_WORLD.vms, { protected: false, vcpus: 0, gfns: 1 }] };

/** A page that went to hyp for metadata and came back scrubbed: host OWNED, idmapped, zero. */
function expectReturnedZeroed(m: Machine, pfn: number, before: PageView): void {
  expect(pageView(m.k, pfn)).toEqual({
    ...before,
    host: OWNED,
    hyp: NOPAGE,
    hypS1: false,
    s2: S2.IDMAP,
    s2Prot: PROT_RWX,
    annotation: null,
    contents: Contents.ZERO,
    contentsVm: 0,
  });
}

/**
 * A failed init_vm / init_vcpu after its donation: the one exception to "failed calls are
 * no-ops" (invariant 13). Only the donated page changes, and it comes back scrubbed.
 */
function expectRolledBack(m: Machine, name: string, args: Partial<Args>, ret: Ret): void {
  const pfn = args.pfn ?? 0;
  const before = m.state;
  const view = pageView(m.k, pfn);
  expect(m.run(name, args)).toBe(ret);
  expect(touched(m.engine.world, before, m.state)).toEqual(pages(pfn));
  expectReturnedZeroed(m, pfn, view);
}

/** A page donated into hyp: hyp OWNED and mapped, host NOPAGE behind a hyp annotation. */
function hypOwned(before: PageView, contents: Contents) {
  return {
    ...before,
    host: NOPAGE,
    hyp: OWNED,
    hypS1: true,
    s2: S2.ANNOTATION,
    s2Prot: 0,
    annotation: [Owner.HYP, 0, 0],
    contents,
    contentsVm: 0,
  };
}

describe("init_vm", () => {
  it("refuses a VM with no vCPUs (-EINVAL) before donating anything", () => {
    const m = new Machine(NO_VCPU_WORLD);
    expectRefused(m, "init_vm", { vm: NO_VCPU_VM, pfn: 5 }, "-EINVAL");
    expectRefused(m, "init_vm", { vm: NO_VCPU_VM, pfn: 0 }, "-EINVAL"); // not -ENOMEM
  });

  it("turns any failed donation of the metadata page into -ENOMEM, changing nothing", () => {
    const m = machineAfter(TEST_WORLD, [["host_share_hyp", { pfn: 5 }], ...BOOT_NPVM]);
    for (const pfn of [0, 3, 5, 7, 9, 20, Number.MAX_SAFE_INTEGER]) {
      expectRefused(m, "init_vm", { vm: PVM, pfn }, "-ENOMEM");
    }
    expectRefused(m, "init_vm", { vm: NPVM, pfn: 0 }, "-ENOMEM"); // donation before the slot check
  });

  it("refuses a slot in use (-EINVAL) after the donation, handing the page back zeroed", () => {
    for (const calls of [BOOT_PVM, [...BOOT_PVM, ["start_teardown_vm", { vm: PVM }]] as Call[]]) {
      const m = machineAfter(TEST_WORLD, [["host_write", { pfn: 12 }], ...calls]);
      expectRolledBack(m, "init_vm", { vm: PVM, pfn: 12 }, "-EINVAL");
    }
  });

  it("makes the metadata page hyp's and the slot live", () => {
    const m = new Machine(TEST_WORLD);
    const before = pageView(m.k, 1);
    expectOk(m, "init_vm", { vm: PVM, pfn: 1 }, [...pages(1), "vm 0 life", "vm 0 meta"]);
    expect(pageView(m.k, 1)).toEqual(hypOwned(before, Contents.HYP));
    expect(m.k.vmLife(PVM)).toBe(VmLife.LIVE);
    expect(m.k.vmMetaPfn(PVM)).toBe(1);
  });
});

describe("init_vcpu", () => {
  it("donates before looking the VM up: a failed donation is -ENOMEM even with no VM", () => {
    const m = machineAfter(TEST_WORLD, BOOT_PVM);
    expectRefused(m, "init_vcpu", { vm: NPVM, vcpu: 0, pfn: 0 }, "-ENOMEM");
    expectRefused(m, "init_vcpu", { vm: PVM, vcpu: 1, pfn: 1 }, "-ENOMEM");
    expectRefused(m, "init_vcpu", { vm: PVM, vcpu: 0, pfn: 9 }, "-ENOMEM");
  });

  it("hands the page back zeroed when there is no VM (-ENOENT) or the slot is filled (-EINVAL)", () => {
    const m = machineAfter(TEST_WORLD, [["host_write", { pfn: 12 }], ...BOOT_PVM]);
    expectRolledBack(m, "init_vcpu", { vm: NPVM, vcpu: 0, pfn: 12 }, "-ENOENT");
    m.run("host_write", { pfn: 12 });
    expectRolledBack(m, "init_vcpu", { vm: PVM, vcpu: 0, pfn: 12 }, "-EINVAL");
  });

  it("fills vCPU slots in any order, also on a dying VM (which can then never load it)", () => {
    const m = machineAfter(TEST_WORLD, [["init_vm", { vm: PVM, pfn: 1 }]]);
    const before = pageView(m.k, 5);
    expectOk(m, "init_vcpu", { vm: PVM, vcpu: 1, pfn: 5 }, [...pages(5), "vm 0 vcpu 1"]);
    expect(pageView(m.k, 5)).toEqual(hypOwned(before, Contents.HYP));
    expect(m.k.vcpuPfn(PVM, 1)).toBe(5);
    expectOk(m, "start_teardown_vm", { vm: PVM }, ["vm 0 life"]);
    expectOk(m, "init_vcpu", { vm: PVM, vcpu: 0, pfn: 6 }, [...pages(6), "vm 0 vcpu 0"]);
    expectRefused(m, "vcpu_load", { vm: PVM, vcpu: 0 }, "-EINVAL");
  });
});

describe("vcpu_load and vcpu_put", () => {
  const BOOTED: readonly Call[] = [...BOOT_PVM, ...BOOT_NPVM];

  it("load is refused (-EINVAL) with no live VM, an uninitialised vCPU, or a vCPU already loaded", () => {
    const m = machineAfter(TEST_WORLD, BOOT_PVM);
    expectRefused(m, "vcpu_load", { vm: NPVM, vcpu: 0 }, "-EINVAL");
    expectRefused(m, "vcpu_load", { vm: PVM, vcpu: 1 }, "-EINVAL");
    const l = machineAfter(TEST_WORLD, [...BOOTED, ["vcpu_load", { vm: PVM, vcpu: 0 }]]);
    expectRefused(l, "vcpu_load", { vm: PVM, vcpu: 0 }, "-EINVAL");
    expectRefused(l, "vcpu_load", { vm: NPVM, vcpu: 0 }, "-EINVAL");
  });

  it("load is refused on a dying VM", () => {
    const m = machineAfter(TEST_WORLD, [...BOOT_PVM, ["start_teardown_vm", { vm: PVM }]]);
    expectRefused(m, "vcpu_load", { vm: PVM, vcpu: 0 }, "-EINVAL");
  });

  it("load and put change only the loaded vCPU; put with nothing loaded is -EINVAL", () => {
    const m = machineAfter(TEST_WORLD, BOOTED);
    expectRefused(m, "vcpu_put", {}, "-EINVAL");
    expectOk(m, "vcpu_load", { vm: NPVM, vcpu: 0 }, ["loaded"]);
    expect([m.k.loadedVm(), m.k.loadedVcpu()]).toEqual([NPVM, 0]);
    expectOk(m, "vcpu_put", {}, ["loaded"]);
    expect(m.k.loadedVm()).toBe(-1);
    expectRefused(m, "vcpu_put", {}, "-EINVAL");
  });
});

describe("start_teardown_vm and finalize_teardown_vm", () => {
  it("every refusal is -EINVAL: no VM, a loaded vCPU, already dying / not dying", () => {
    const m = machineAfter(TEST_WORLD, [...BOOT_PVM, ["vcpu_load", { vm: PVM, vcpu: 0 }]]);
    expectRefused(m, "start_teardown_vm", { vm: NPVM }, "-EINVAL");
    expectRefused(m, "finalize_teardown_vm", { vm: NPVM }, "-EINVAL");
    expectRefused(m, "start_teardown_vm", { vm: PVM }, "-EINVAL"); // vCPU loaded
    expectRefused(m, "finalize_teardown_vm", { vm: PVM }, "-EINVAL"); // live
    m.run("vcpu_put");
    expectOk(m, "start_teardown_vm", { vm: PVM }, ["vm 0 life"]);
    expect(m.k.vmLife(PVM)).toBe(VmLife.DYING);
    expectRefused(m, "start_teardown_vm", { vm: PVM }, "-EINVAL");
  });

  it("another VM's loaded vCPU does not hold this one", () => {
    const m = machineAfter(TEST_WORLD, [...BOOT_PVM, ...BOOT_NPVM, ["vcpu_load", { vm: NPVM, vcpu: 0 }]]);
    expectOk(m, "start_teardown_vm", { vm: PVM }, ["vm 0 life"]);
    expectOk(m, "finalize_teardown_vm", { vm: PVM }, [...pages(1, 2), "vm 0 life", "vm 0 meta", "vm 0 vcpu 0"]);
  });

  it("finalize returns metadata zeroed, frees the slot, and leaves unreclaimed guest pages leaked", () => {
    const m = machineAfter(TEST_WORLD, [
      ...BOOT_PVM,
      ["init_vcpu", { vm: PVM, vcpu: 1, pfn: 5 }],
      ["vcpu_load", { vm: PVM, vcpu: 1 }],
      ["host_donate_guest", { vm: PVM, pfn: 12, gfn: 0 }],
      ["host_donate_guest", { vm: PVM, pfn: 13, gfn: 1 }],
      ["guest_write", { vm: PVM, gfn: 1 }],
      ["host_donate_guest", { vm: PVM, pfn: 14, gfn: 2 }],
      ["guest_share_host", { vm: PVM, gfn: 2 }],
      ["host_donate_guest", { vm: PVM, pfn: 15, gfn: 3 }],
      ["host_force_reclaim_page_guest", { pfn: 15 }],
      ["vcpu_put"],
      ["start_teardown_vm", { vm: PVM }],
      ["host_reclaim_page_guest", { vm: PVM, gfn: 0 }],
    ]);
    const before = [1, 2, 5, 13, 14].map((p) => pageView(m.k, p));
    expectOk(m, "finalize_teardown_vm", { vm: PVM }, [
      ...pages(1, 2, 5, 13, 14),
      ...["life", "meta", "vcpu 0", "vcpu 1", "gfn 1", "gfn 2", "gfn 3"].map((f) => `vm 0 ${f}`),
    ]);
    [1, 2, 5].forEach((p, i) => expectReturnedZeroed(m, p, before[i]));
    // The guest's private page stays hidden, its annotation naming the old handle and gfn.
    expect(pageView(m.k, 13)).toEqual({ ...before[3], leaked: true });
    expect(before[3]).toMatchObject({ host: NOPAGE, annotation: [Owner.GUEST, PVM, 1], contents: Contents.GUEST });
    expect(pageView(m.k, 14)).toEqual({ ...before[4], leaked: true, host: SHARED_BORROWED });
    expect(m.k.vmLife(PVM)).toBe(VmLife.ABSENT);
    expectRefused(m, "host_read", { pfn: 13 }, "-EFAULT");
  });

  it("a non-protected VM's unreclaimed share leaks as host SO with a stale count", () => {
    const m = machineAfter(TEST_WORLD, [
      ...BOOT_NPVM,
      ["vcpu_load", { vm: NPVM, vcpu: 0 }],
      ["host_share_guest", { vm: NPVM, pfn: 12, gfn: 0, nr_pages: 1, prot: PROT_RWX }],
      ["vcpu_put"],
      ["start_teardown_vm", { vm: NPVM }],
    ]);
    const before = pageView(m.k, 12);
    expectOk(m, "finalize_teardown_vm", { vm: NPVM }, [...pages(3, 4, 12), "vm 1 life", "vm 1 meta", "vm 1 vcpu 0", "vm 1 gfn 0"]);
    expect(pageView(m.k, 12)).toEqual({ ...before, leaked: true });
    expect(before).toMatchObject({ host: SHARED_OWNED, shareCount: 1 });
  });

  it("a finalized slot is reused by the next init_vm, with the same pages", () => {
    const m = machineAfter(TEST_WORLD, [...BOOT_PVM, ["start_teardown_vm", { vm: PVM }], ["finalize_teardown_vm", { vm: PVM }]]);
    expectOk(m, "init_vm", { vm: PVM, pfn: 1 }, [...pages(1), "vm 0 life", "vm 0 meta"]);
    expectOk(m, "init_vcpu", { vm: PVM, vcpu: 0, pfn: 2 }, [...pages(2), "vm 0 vcpu 0"]);
    expectOk(m, "vcpu_load", { vm: PVM, vcpu: 0 }, ["loaded"]);
  });
});

describe("the vCPU memcache (memcache: true)", () => {
  const LOADED: readonly Call[] = [...BOOT_PVM, ["vcpu_load", { vm: PVM, vcpu: 0 }]];

  it("topup needs an initialised vCPU (-ENOENT) before the donation's own errors", () => {
    const m = machineAfter(MEMCACHE_WORLD, BOOT_PVM);
    expectRefused(m, "host_topup_memcache", { vm: NPVM, vcpu: 0, pfn: 0 }, "-ENOENT");
    expectRefused(m, "host_topup_memcache", { vm: PVM, vcpu: 1, pfn: 0 }, "-ENOENT");
    expectRefused(m, "host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 0 }, "-EPERM");
    expectRefused(m, "host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 9 }, "-EPERM");
    expectRefused(m, "host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 20 }, "-EINVAL");
  });

  it("topup donates the page to hyp as it is, also on a dying VM", () => {
    const m = machineAfter(MEMCACHE_WORLD, [...BOOT_PVM, ["start_teardown_vm", { vm: PVM }]]);
    const before = pageView(m.k, 12);
    expectOk(m, "host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 12 }, [...pages(12), "vm 0 memcache 0"]);
    expect(pageView(m.k, 12)).toEqual(hypOwned(before, Contents.HOST));
    expect(m.k.memcacheCount(PVM, 0)).toBe(1);
  });

  it("an empty memcache is -ENOMEM, the last check, whether or not a table is needed", () => {
    const m = machineAfter(MEMCACHE_WORLD, [...LOADED, ["host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 12 }]]);
    expectOk(m, "host_donate_guest", { vm: PVM, pfn: 14, gfn: 0 }, [...pages(12, 14), "vm 0 memcache 0", "vm 0 table 0", "vm 0 gfn 0"]);
    expectRefused(m, "host_donate_guest", { vm: PVM, pfn: 15, gfn: 1 }, "-ENOMEM"); // table 0 exists
    expectRefused(m, "host_donate_guest", { vm: PVM, pfn: 0, gfn: 1 }, "-EPERM");
    expectRefused(m, "host_donate_guest", { vm: PVM, pfn: 15, gfn: 4 }, "-ERANGE");
    expectRefused(m, "host_donate_guest", { vm: PVM, pfn: 15, gfn: 0 }, "-EPERM");
  });

  it("each vCPU has its own memcache", () => {
    const m = machineAfter(MEMCACHE_WORLD, [
      ...BOOT_PVM,
      ["init_vcpu", { vm: PVM, vcpu: 1, pfn: 5 }],
      ["host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 12 }],
      ["vcpu_load", { vm: PVM, vcpu: 1 }],
    ]);
    expectRefused(m, "host_donate_guest", { vm: PVM, pfn: 14, gfn: 0 }, "-ENOMEM");
  });

  it("allocates a leaf table per block of gfns, last in first out, labelled hyp data", () => {
    const m = machineAfter(MEMCACHE_WORLD, [
      ...LOADED,
      ["host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 12 }],
      ["host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 13 }],
      ["host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 5 }],
    ]);
    m.run("host_donate_guest", { vm: PVM, pfn: 14, gfn: 0 });
    expect([m.k.tablePfn(PVM, 0), m.k.memcacheCount(PVM, 0)]).toEqual([5, 2]);
    expect(m.k.contents(5)).toBe(Contents.HYP);
    expectOk(m, "host_donate_guest", { vm: PVM, pfn: 15, gfn: 1 }, [...pages(15), "vm 0 gfn 1"]); // same table
    m.run("host_donate_guest", { vm: PVM, pfn: 16, gfn: 3 });
    expect([m.k.tablePfn(PVM, 1), m.k.memcacheCount(PVM, 0), m.k.memcachePage(PVM, 0, 0)]).toEqual([13, 1, 12]);
  });

  it("a block mapping needs no leaf table, but still a non-empty memcache", () => {
    const m = machineAfter(MEMCACHE_WORLD, [...BOOT_NPVM, ["vcpu_load", { vm: NPVM, vcpu: 0 }]]);
    const share = { vm: NPVM, pfn: 14, gfn: 2, nr_pages: 2, prot: PROT_RWX };
    expectRefused(m, "host_share_guest", share, "-ENOMEM");
    expectRefused(m, "host_share_guest", { ...share, pfn: 0, nr_pages: 1 }, "-EPERM");
    m.run("host_topup_memcache", { vm: NPVM, vcpu: 0, pfn: 12 });
    expectOk(m, "host_share_guest", share, [...pages(14, 15), "vm 1 gfn 2", "vm 1 gfn 3"]);
    expect(m.k.memcacheCount(NPVM, 0)).toBe(1);
    expect(m.k.tablePfn(NPVM, 1)).toBe(-1);
  });

  it("finalize returns table pages zeroed and unused memcache pages as they are", () => {
    const m = machineAfter(MEMCACHE_WORLD, [
      ...LOADED,
      ["host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 12 }],
      ["host_topup_memcache", { vm: PVM, vcpu: 0, pfn: 13 }],
      ["host_donate_guest", { vm: PVM, pfn: 14, gfn: 0 }],
      ["vcpu_put"],
      ["start_teardown_vm", { vm: PVM }],
      ["host_reclaim_page_guest", { vm: PVM, gfn: 0 }],
    ]);
    const table = pageView(m.k, 13);
    const spare = pageView(m.k, 12);
    expect([table.contents, spare.contents]).toEqual([Contents.HYP, Contents.HOST]);
    m.run("finalize_teardown_vm", { vm: PVM });
    expectReturnedZeroed(m, 13, table);
    expect(pageView(m.k, 12)).toEqual({
      ...spare,
      host: OWNED,
      hyp: NOPAGE,
      hypS1: false,
      s2: S2.IDMAP,
      s2Prot: PROT_RWX,
      annotation: null,
    });
    expect([m.k.memcacheCount(PVM, 0), m.k.tablePfn(PVM, 0)]).toEqual([0, -1]);
  });
});
