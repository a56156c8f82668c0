// Memory accesses (semantics 4, interface.md): the host through its lazily filled identity
// stage-2, guests through their own stage-2 honouring prot and POISON.

import { describe, expect, it } from "vitest";
import { Contents, PROT_R, PROT_RWX, PROT_W, PROT_X, S2 } from "../model/state.js";
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
  type Call,
} from "./helpers.js";

describe("host_read and host_write", () => {
  it("fault an empty entry in as an identity map once: memory RWX (NOMAP too), MMIO RW", () => {
    const m = new Machine(TEST_WORLD);
    const before = pageView(m.k, 5);
    expectOk(m, "host_read", { pfn: 5 }, pages(5));
    expect(pageView(m.k, 5)).toEqual({ ...before, s2: S2.IDMAP, s2Prot: PROT_RWX });
    expectOk(m, "host_read", { pfn: 5 }, []);
    expectOk(m, "host_read", { pfn: 7 }, pages(7));
    expect(m.k.hostS2Prot(7)).toBe(PROT_RWX);
    expectOk(m, "host_write", { pfn: 9 }, pages(9));
    expect([m.k.hostS2(9), m.k.hostS2Prot(9), m.k.contents(9)]).toEqual([S2.IDMAP, PROT_R | PROT_W, Contents.ZERO]);
  });

  it("a write leaves host data in memory", () => {
    const m = machineAfter(TEST_WORLD, [["hyp_donate_host", { pfn: 0, nr_pages: 1 }]]);
    expect(m.k.contents(0)).toBe(Contents.ZERO);
    expectOk(m, "host_write", { pfn: 0 }, pages(0));
    expect(m.k.contents(0)).toBe(Contents.HOST);
  });

  it("abort (-EFAULT) on an annotation: hyp-owned and guest-owned pages", () => {
    const m = machineAfter(TEST_WORLD, [
      ...BOOT_PVM,
      ["vcpu_load", { vm: PVM, vcpu: 0 }],
      ["host_donate_guest", { vm: PVM, pfn: 12, gfn: 0 }],
    ]);
    for (const pfn of [0, 1, 2, 12]) {
      expectRefused(m, "host_read", { pfn }, "-EFAULT");
      expectRefused(m, "host_write", { pfn }, "-EFAULT");
    }
  });

  it("abort at or past the limit", () => {
    const m = new Machine(TEST_WORLD);
    for (const pfn of [20, Number.MAX_SAFE_INTEGER]) {
      expectRefused(m, "host_read", { pfn }, "-EFAULT");
      expectRefused(m, "host_write", { pfn }, "-EFAULT");
    }
  });

  it("succeed on pages the host shares with hyp, FF-A or a guest, and on pages a guest shares back", () => {
    const m = machineAfter(TEST_WORLD, [
      ...BOOT_PVM,
      ...BOOT_NPVM,
      ["host_share_hyp", { pfn: 5 }],
      ["host_share_ffa", { pfn: 6, nr_pages: 1 }],
      ["vcpu_load", { vm: NPVM, vcpu: 0 }],
      ["host_share_guest", { vm: NPVM, pfn: 11, gfn: 0, nr_pages: 1, prot: PROT_RWX }],
      ["vcpu_put"],
      ["vcpu_load", { vm: PVM, vcpu: 0 }],
      ["host_donate_guest", { vm: PVM, pfn: 12, gfn: 0 }],
      ["guest_share_host", { vm: PVM, gfn: 0 }],
    ]);
    for (const pfn of [5, 6, 11, 12]) {
      expect(m.run("host_read", { pfn })).toBe("0");
      expect(m.run("host_write", { pfn })).toBe("0");
    }
  });
});

describe("guest_read and guest_write", () => {
  const NP: readonly Call[] = [...BOOT_PVM, ...BOOT_NPVM, ["vcpu_load", { vm: NPVM, vcpu: 0 }]];
  const shareWith = (gfn: number, pfn: number, prot: number): Call => [
    "host_share_guest",
    { vm: NPVM, pfn, gfn, nr_pages: 1, prot },
  ];

  it("fault (-EFAULT) with no vCPU of the VM loaded, or a gfn at or past the guest's end", () => {
    const m = machineAfter(TEST_WORLD, [...NP, shareWith(0, 12, PROT_RWX)]);
    expectRefused(m, "guest_read", { vm: PVM, gfn: 0 }, "-EFAULT");
    expectRefused(m, "guest_read", { vm: NPVM, gfn: 4 }, "-EFAULT");
    expectRefused(m, "guest_write", { vm: NPVM, gfn: Number.MAX_SAFE_INTEGER }, "-EFAULT");
    m.run("vcpu_put");
    expectRefused(m, "guest_read", { vm: NPVM, gfn: 0 }, "-EFAULT");
    expectRefused(m, "guest_write", { vm: NPVM, gfn: 0 }, "-EFAULT");
  });

  it("honour the mapping's prot; an unmapped frame faults", () => {
    const m = machineAfter(TEST_WORLD, [
      ...NP,
      shareWith(0, 12, PROT_R),
      shareWith(1, 13, PROT_W),
      shareWith(2, 14, PROT_X),
      shareWith(3, 15, PROT_RWX),
    ]);
    expectOk(m, "guest_read", { vm: NPVM, gfn: 0 }, []);
    expectRefused(m, "guest_write", { vm: NPVM, gfn: 0 }, "-EFAULT");
    expectRefused(m, "guest_read", { vm: NPVM, gfn: 1 }, "-EFAULT");
    expectOk(m, "guest_write", { vm: NPVM, gfn: 1 }, []); // host data stays host data
    expectRefused(m, "guest_read", { vm: NPVM, gfn: 2 }, "-EFAULT");
    expectRefused(m, "guest_write", { vm: NPVM, gfn: 2 }, "-EFAULT");
    m.run("host_unshare_guest", { vm: NPVM, gfn: 3, nr_pages: 1 });
    expectRefused(m, "guest_read", { vm: NPVM, gfn: 3 }, "-EFAULT");
  });

  it("follow permission changes: relax adds write, wrprotect takes it away", () => {
    const m = machineAfter(TEST_WORLD, [...NP, shareWith(0, 12, PROT_R)]);
    m.run("host_relax_perms_guest", { vm: NPVM, gfn: 0, prot: PROT_W });
    expect(m.run("guest_write", { vm: NPVM, gfn: 0 })).toBe("0");
    m.run("host_wrprotect_guest", { vm: NPVM, gfn: 0, nr_pages: 1 });
    expectRefused(m, "guest_write", { vm: NPVM, gfn: 0 }, "-EFAULT");
  });

  it("a write to a private page is the guest's secret; to a shared page it is not", () => {
    const m = machineAfter(TEST_WORLD, [
      ...BOOT_PVM,
      ["vcpu_load", { vm: PVM, vcpu: 0 }],
      ["host_donate_guest", { vm: PVM, pfn: 12, gfn: 0 }],
      ["host_donate_guest", { vm: PVM, pfn: 13, gfn: 1 }],
      ["guest_share_host", { vm: PVM, gfn: 1 }],
    ]);
    expectOk(m, "guest_write", { vm: PVM, gfn: 0 }, pages(12));
    expect([m.k.contents(12), m.k.contentsVm(12)]).toEqual([Contents.GUEST, PVM]);
    expectOk(m, "guest_write", { vm: PVM, gfn: 1 }, []); // already host data
    expect(m.k.contents(13)).toBe(Contents.HOST);
    const np = machineAfter(TEST_WORLD, [...NP, shareWith(0, 12, PROT_RWX), ["host_write", { pfn: 12 }]]);
    expectOk(np, "guest_write", { vm: NPVM, gfn: 0 }, []);
    expect(np.k.contents(12)).toBe(Contents.HOST);
  });

  it("fault on a poisoned frame", () => {
    const m = machineAfter(TEST_WORLD, [
      ...BOOT_PVM,
      ["vcpu_load", { vm: PVM, vcpu: 0 }],
      ["host_donate_guest", { vm: PVM, pfn: 12, gfn: 0 }],
      ["host_force_reclaim_page_guest", { pfn: 12 }],
    ]);
    expectRefused(m, "guest_read", { vm: PVM, gfn: 0 }, "-EFAULT");
    expectRefused(m, "guest_write", { vm: PVM, gfn: 0 }, "-EFAULT");
  });
});
