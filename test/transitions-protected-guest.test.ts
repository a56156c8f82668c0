// Host <-> protected guest (semantics 3, 5, 5a): __pkvm_host_donate_guest, the guest's
// MEM_SHARE / MEM_UNSHARE / MEM_RELINQUISH, reclaim from a dying VM and force reclaim from the
// host fault handler, with POISON, leaked pages and reused VM handles.

import { describe, expect, it } from "vitest";
import { Contents, GuestEntry, Owner, PageState, PROT_RWX, S2 } from "../model/state.js";
import {
  BOOT_NPVM,
  BOOT_PVM,
  expectOk,
  expectRefused,
  guestView,
  machineAfter,
  NPVM,
  pages,
  pageView,
  PVM,
  TEST_WORLD,
  type Call,
} from "./helpers.js";

const { NOPAGE, OWNED, SHARED_OWNED, SHARED_BORROWED } = PageState;
const LOADED: readonly Call[] = [...BOOT_PVM, ["vcpu_load", { vm: PVM, vcpu: 0 }]];
/** pfn 12 donated at gfn 0 and written by the guest; pfn 13 donated at gfn 1 and shared back. */
const DONATED: readonly Call[] = [
  ...LOADED,
  ["host_donate_guest", { vm: PVM, pfn: 12, gfn: 0 }],
  ["guest_write", { vm: PVM, gfn: 0 }],
  ["host_donate_guest", { vm: PVM, pfn: 13, gfn: 1 }],
  ["guest_write", { vm: PVM, gfn: 1 }],
  ["guest_share_host", { vm: PVM, gfn: 1 }],
];
const DYING: readonly Call[] = [...DONATED, ["vcpu_put"], ["start_teardown_vm", { vm: PVM }]];

const gfns = (...g: number[]) => g.map((x) => `vm ${PVM} gfn ${x}`);
const donate = (pfn: number, gfn: number) => ({ vm: PVM, pfn, gfn });

describe("host_donate_guest", () => {
  it("needs a loaded vCPU of that VM, and that VM protected (handler: -EINVAL)", () => {
    const m = machineAfter(TEST_WORLD, [...BOOT_PVM, ...BOOT_NPVM]);
    expectRefused(m, "host_donate_guest", donate(12, 0), "-EINVAL");
    m.run("vcpu_load", { vm: NPVM, vcpu: 0 });
    expectRefused(m, "host_donate_guest", donate(12, 0), "-EINVAL");
    expectRefused(m, "host_donate_guest", { vm: NPVM, pfn: 12, gfn: 0 }, "-EINVAL");
  });

  it("runs the host check first (no range check: past the limit is -EPERM), before the guest walk", () => {
    const m = machineAfter(TEST_WORLD, [...LOADED, ["host_share_hyp", { pfn: 14 }]]);
    for (const pfn of [20, Number.MAX_SAFE_INTEGER, 9, 7, 0, 1, 14]) {
      expectRefused(m, "host_donate_guest", donate(pfn, 4), "-EPERM");
    }
  });

  it("then requires the guest frame to exist (-ERANGE) and be NOPAGE (-EPERM), poisoned ones too", () => {
    const m = machineAfter(TEST_WORLD, [
      ...DONATED,
      ["host_donate_guest", donate(14, 2)],
      ["host_force_reclaim_page_guest", { pfn: 14 }],
    ]);
    expectRefused(m, "host_donate_guest", donate(15, 4), "-ERANGE");
    expectRefused(m, "host_donate_guest", donate(15, 0), "-EPERM");
    expectRefused(m, "host_donate_guest", donate(15, 1), "-EPERM");
    expectRefused(m, "host_donate_guest", donate(15, 2), "-EPERM"); // POISON
  });

  it("hides the page from the host behind a guest annotation and maps it RWX, guest OWNED", () => {
    const m = machineAfter(TEST_WORLD, [["host_read", { pfn: 12 }], ...LOADED]);
    const before = pageView(m.k, 12);
    expectOk(m, "host_donate_guest", donate(12, 3), [...pages(12), ...gfns(3)]);
    expect(pageView(m.k, 12)).toEqual({
      ...before,
      host: NOPAGE,
      s2: S2.ANNOTATION,
      s2Prot: 0,
      annotation: [Owner.GUEST, PVM, 3],
    });
    expect(guestView(m.k, PVM, 3)).toEqual({ entry: GuestEntry.MAPPED, state: OWNED, pfn: 12, prot: PROT_RWX, block: false });
    expectRefused(m, "host_read", { pfn: 12 }, "-EFAULT");
  });
});

describe("guest_share_host", () => {
  it("needs a loaded vCPU of that protected VM (-EINVAL)", () => {
    const m = machineAfter(TEST_WORLD, [...DONATED, ["vcpu_put"], ...BOOT_NPVM]);
    expectRefused(m, "guest_share_host", { vm: PVM, gfn: 0 }, "-EINVAL");
    m.run("vcpu_load", { vm: NPVM, vcpu: 0 });
    expectRefused(m, "guest_share_host", { vm: PVM, gfn: 0 }, "-EINVAL");
    expectRefused(m, "guest_share_host", { vm: NPVM, gfn: 0 }, "-EINVAL"); // not handled for np VMs
  });

  it("looks the leaf up: -ERANGE, poisoned -EHWPOISON, absent -ENOENT, a block -E2BIG", () => {
    const m = machineAfter(TEST_WORLD, [
      ...DONATED,
      ["host_donate_guest", donate(14, 2)],
      ["host_force_reclaim_page_guest", { pfn: 14 }],
    ]);
    expectRefused(m, "guest_share_host", { vm: PVM, gfn: 4 }, "-ERANGE");
    expectRefused(m, "guest_share_host", { vm: PVM, gfn: 2 }, "-EHWPOISON");
    expectRefused(m, "guest_share_host", { vm: PVM, gfn: 3 }, "-ENOENT");
    // A protected guest never gets a block; the leaf check still comes before the state check.
    m.k.setGuestMapping(PVM, 0, 12, SHARED_OWNED, PROT_RWX, true);
    expectRefused(m, "guest_share_host", { vm: PVM, gfn: 0 }, "-E2BIG");
  });

  it("then requires guest OWNED, then host NOPAGE (-EPERM)", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    expectRefused(m, "guest_share_host", { vm: PVM, gfn: 1 }, "-EPERM"); // already SO
    m.k.setHostState(12, OWNED);
    expectRefused(m, "guest_share_host", { vm: PVM, gfn: 0 }, "-EPERM");
  });

  it("makes the page guest SO and host SB, idmapped; the guest's data is now the host's to read", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    const before = pageView(m.k, 12);
    expect(before.contents).toBe(Contents.GUEST);
    expectOk(m, "guest_share_host", { vm: PVM, gfn: 0 }, [...pages(12), ...gfns(0)]);
    expect(pageView(m.k, 12)).toEqual({
      ...before,
      host: SHARED_BORROWED,
      s2: S2.IDMAP,
      s2Prot: PROT_RWX,
      annotation: null,
      contents: Contents.HOST,
      contentsVm: 0,
    });
    expect(guestView(m.k, PVM, 0)).toEqual({ entry: GuestEntry.MAPPED, state: SHARED_OWNED, pfn: 12, prot: PROT_RWX, block: false });
    expect(m.run("host_read", { pfn: 12 })).toBe("0");
  });
});

describe("guest_unshare_host", () => {
  it("needs a loaded vCPU of that protected VM (-EINVAL)", () => {
    const m = machineAfter(TEST_WORLD, [...DONATED, ["vcpu_put"]]);
    expectRefused(m, "guest_unshare_host", { vm: PVM, gfn: 1 }, "-EINVAL");
  });

  it("looks the leaf up like guest_share_host, then requires guest SO and host SB (-EPERM)", () => {
    const m = machineAfter(TEST_WORLD, [
      ...DONATED,
      ["host_donate_guest", donate(14, 2)],
      ["host_force_reclaim_page_guest", { pfn: 14 }],
    ]);
    expectRefused(m, "guest_unshare_host", { vm: PVM, gfn: 4 }, "-ERANGE");
    expectRefused(m, "guest_unshare_host", { vm: PVM, gfn: 2 }, "-EHWPOISON");
    expectRefused(m, "guest_unshare_host", { vm: PVM, gfn: 3 }, "-ENOENT");
    expectRefused(m, "guest_unshare_host", { vm: PVM, gfn: 0 }, "-EPERM"); // guest OWNED
    m.k.setHostState(13, SHARED_OWNED);
    expectRefused(m, "guest_unshare_host", { vm: PVM, gfn: 1 }, "-EPERM");
  });

  it("takes the page back from the host behind a guest annotation", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    const before = pageView(m.k, 13);
    expectOk(m, "guest_unshare_host", { vm: PVM, gfn: 1 }, [...pages(13), ...gfns(1)]);
    expect(pageView(m.k, 13)).toEqual({
      ...before,
      host: NOPAGE,
      s2: S2.ANNOTATION,
      s2Prot: 0,
      annotation: [Owner.GUEST, PVM, 1],
    });
    expect(m.k.guestState(PVM, 1)).toBe(OWNED);
    expectRefused(m, "host_read", { pfn: 13 }, "-EFAULT");
  });
});

describe("host_reclaim_page_guest", () => {
  it("requires the VM to be dying (-EINVAL), before the walk", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    expectRefused(m, "host_reclaim_page_guest", { vm: PVM, gfn: 0 }, "-EINVAL");
    expectRefused(m, "host_reclaim_page_guest", { vm: PVM, gfn: 4 }, "-EINVAL");
    expectRefused(m, "host_reclaim_page_guest", { vm: NPVM, gfn: 0 }, "-EINVAL"); // no VM
  });

  it("then the leaf: -ERANGE, absent -ENOENT; a poisoned leaf is \"0\" and changes nothing", () => {
    const m = machineAfter(TEST_WORLD, [
      ...LOADED,
      ["host_donate_guest", donate(14, 2)],
      ["host_force_reclaim_page_guest", { pfn: 14 }],
      ["vcpu_put"],
      ["start_teardown_vm", { vm: PVM }],
    ]);
    expectRefused(m, "host_reclaim_page_guest", { vm: PVM, gfn: 4 }, "-ERANGE");
    expectRefused(m, "host_reclaim_page_guest", { vm: PVM, gfn: 3 }, "-ENOENT");
    expectOk(m, "host_reclaim_page_guest", { vm: PVM, gfn: 2 }, []);
    expect(m.k.guestEntry(PVM, 2)).toBe(GuestEntry.POISON);
  });

  it("refuses a non-protected VM's block (-E2BIG) and borrowed pages (-EPERM)", () => {
    const m = machineAfter(TEST_WORLD, [
      ...BOOT_NPVM,
      ["vcpu_load", { vm: NPVM, vcpu: 0 }],
      ["host_share_guest", { vm: NPVM, pfn: 12, gfn: 0, nr_pages: 1, prot: PROT_RWX }],
      ["host_share_guest", { vm: NPVM, pfn: 14, gfn: 2, nr_pages: 2, prot: PROT_RWX }],
      ["vcpu_put"],
      ["start_teardown_vm", { vm: NPVM }],
    ]);
    expectRefused(m, "host_reclaim_page_guest", { vm: NPVM, gfn: 2 }, "-E2BIG");
    expectRefused(m, "host_reclaim_page_guest", { vm: NPVM, gfn: 0 }, "-EPERM");
    expectOk(m, "host_unshare_guest", { vm: NPVM, gfn: 0, nr_pages: 1 }, ["page 12", `vm ${NPVM} gfn 0`]);
  });

  it("zeroes a guest OWNED page and returns it to the host idmapped", () => {
    const m = machineAfter(TEST_WORLD, DYING);
    const before = pageView(m.k, 12);
    expectOk(m, "host_reclaim_page_guest", { vm: PVM, gfn: 0 }, [...pages(12), ...gfns(0)]);
    expect(pageView(m.k, 12)).toEqual({
      ...before,
      host: OWNED,
      s2: S2.IDMAP,
      s2Prot: PROT_RWX,
      annotation: null,
      contents: Contents.ZERO,
      contentsVm: 0,
    });
    expect(guestView(m.k, PVM, 0).entry).toBe(GuestEntry.ABSENT);
    expectRefused(m, "host_reclaim_page_guest", { vm: PVM, gfn: 0 }, "-ENOENT");
  });

  it("does not zero a page the guest shared with the host", () => {
    const m = machineAfter(TEST_WORLD, DYING);
    const before = pageView(m.k, 13);
    expectOk(m, "host_reclaim_page_guest", { vm: PVM, gfn: 1 }, [...pages(13), ...gfns(1)]);
    expect(pageView(m.k, 13)).toEqual({ ...before, host: OWNED });
    expect(before.contents).toBe(Contents.HOST);
  });
});

describe("host_force_reclaim_page_guest", () => {
  it("refuses what is not memory (-EFAULT) and pages the host can access (-EAGAIN)", () => {
    const m = machineAfter(TEST_WORLD, [...DONATED, ["host_share_hyp", { pfn: 14 }]]);
    for (const pfn of [9, 10, 20, Number.MAX_SAFE_INTEGER]) {
      expectRefused(m, "host_force_reclaim_page_guest", { pfn }, "-EFAULT");
    }
    for (const pfn of [7, 5, 14, 13]) {
      expectRefused(m, "host_force_reclaim_page_guest", { pfn }, "-EAGAIN"); // NOMAP, OWNED, SO, SB
    }
  });

  it("refuses hyp-owned pages (-EPERM, B12): boot pages, VM metadata", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    for (const pfn of [0, 1, 2]) expectRefused(m, "host_force_reclaim_page_guest", { pfn }, "-EPERM");
  });

  it("poisons the guest leaf, zeroes the page and returns it to the host idmapped", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    const before = pageView(m.k, 12);
    expectOk(m, "host_force_reclaim_page_guest", { pfn: 12 }, [...pages(12), ...gfns(0)]);
    expect(pageView(m.k, 12)).toEqual({
      ...before,
      host: OWNED,
      s2: S2.IDMAP,
      s2Prot: PROT_RWX,
      annotation: null,
      contents: Contents.ZERO,
      contentsVm: 0,
    });
    expect(guestView(m.k, PVM, 0)).toEqual({ entry: GuestEntry.POISON, state: NOPAGE, pfn: 0, prot: 0, block: false });
    expectRefused(m, "guest_read", { vm: PVM, gfn: 0 }, "-EFAULT");
    expectRefused(m, "host_force_reclaim_page_guest", { pfn: 12 }, "-EAGAIN");
  });

  it("works on a dying VM", () => {
    const m = machineAfter(TEST_WORLD, DYING);
    expectOk(m, "host_force_reclaim_page_guest", { pfn: 12 }, [...pages(12), ...gfns(0)]);
  });

  describe("decodes stale annotations against whatever VM holds the handle now", () => {
    // pfn 12 leaks with an annotation naming (vm 0, gfn 0); then the slot is reused.
    const LEAKED: readonly Call[] = [...DYING, ["finalize_teardown_vm", { vm: PVM }]];
    const REUSED: readonly Call[] = [...LEAKED, ...BOOT_PVM, ["vcpu_load", { vm: PVM, vcpu: 0 }]];

    it("no VM in the slot: -EAGAIN", () => {
      const m = machineAfter(TEST_WORLD, LEAKED);
      expect(m.k.leaked(12)).toBe(true);
      expectRefused(m, "host_force_reclaim_page_guest", { pfn: 12 }, "-EAGAIN");
    });

    it("the new VM has no leaf at that gfn: -ENOENT", () => {
      const m = machineAfter(TEST_WORLD, REUSED);
      expectRefused(m, "host_force_reclaim_page_guest", { pfn: 12 }, "-ENOENT");
    });

    it("the new VM maps another page there: the WARN_ON is a hyp PANIC", () => {
      const m = machineAfter(TEST_WORLD, [...REUSED, ["host_donate_guest", donate(15, 0)]]);
      expectRefused(m, "host_force_reclaim_page_guest", { pfn: 12 }, "PANIC");
    });

    it("the new VM's leaf there is poisoned: -EHWPOISON", () => {
      const m = machineAfter(TEST_WORLD, [
        ...REUSED,
        ["host_donate_guest", donate(15, 0)],
        ["host_force_reclaim_page_guest", { pfn: 15 }],
      ]);
      expectRefused(m, "host_force_reclaim_page_guest", { pfn: 12 }, "-EHWPOISON");
    });
  });

  it("checks the leaf's granule, then the page, then the guest state (states no action reaches)", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    m.k.setGuestMapping(PVM, 0, 12, OWNED, PROT_RWX, true);
    expectRefused(m, "host_force_reclaim_page_guest", { pfn: 12 }, "-E2BIG");
    m.k.setGuestMapping(PVM, 0, 12, SHARED_OWNED, PROT_RWX, false); // host still NOPAGE
    expectRefused(m, "host_force_reclaim_page_guest", { pfn: 12 }, "-EPERM");
    m.k.setGuestMapping(PVM, 0, 14, SHARED_OWNED, PROT_RWX, false);
    expectRefused(m, "host_force_reclaim_page_guest", { pfn: 12 }, "PANIC");
  });
});

describe("guest_relinquish", () => {
  it("needs a loaded vCPU of that VM (-EINVAL); a non-protected VM gets \"0\" and no effect", () => {
    const m = machineAfter(TEST_WORLD, [...DONATED, ["vcpu_put"], ...BOOT_NPVM]);
    expectRefused(m, "guest_relinquish", { vm: PVM, gfn: 0 }, "-EINVAL");
    m.run("vcpu_load", { vm: NPVM, vcpu: 0 });
    expectRefused(m, "guest_relinquish", { vm: PVM, gfn: 0 }, "-EINVAL");
    m.run("host_share_guest", { vm: NPVM, pfn: 14, gfn: 0, nr_pages: 1, prot: PROT_RWX });
    expectOk(m, "guest_relinquish", { vm: NPVM, gfn: 0 }, []);
  });

  it("is \"0\" with no effect on an absent, poisoned or out-of-range gfn", () => {
    const m = machineAfter(TEST_WORLD, [
      ...DONATED,
      ["host_donate_guest", donate(14, 2)],
      ["host_force_reclaim_page_guest", { pfn: 14 }],
    ]);
    for (const gfn of [2, 3, 4]) expectOk(m, "guest_relinquish", { vm: PVM, gfn }, []);
  });

  it("refuses a block (-E2BIG) and a page the guest does not own exclusively (-EPERM)", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    expectRefused(m, "guest_relinquish", { vm: PVM, gfn: 1 }, "-EPERM"); // shared with the host
    m.k.setGuestMapping(PVM, 0, 12, OWNED, PROT_RWX, true);
    expectRefused(m, "guest_relinquish", { vm: PVM, gfn: 0 }, "-E2BIG");
  });

  it("unmaps the page, zeroes it and returns it to the host idmapped", () => {
    const m = machineAfter(TEST_WORLD, DONATED);
    const before = pageView(m.k, 12);
    expectOk(m, "guest_relinquish", { vm: PVM, gfn: 0 }, [...pages(12), ...gfns(0)]);
    expect(pageView(m.k, 12)).toEqual({
      ...before,
      host: OWNED,
      s2: S2.IDMAP,
      s2Prot: PROT_RWX,
      annotation: null,
      contents: Contents.ZERO,
      contentsVm: 0,
    });
    expect(guestView(m.k, PVM, 0).entry).toBe(GuestEntry.ABSENT);
  });
});
