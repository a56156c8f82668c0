// Host <-> non-protected guest (semantics 3, 5a): __pkvm_host_share_guest and
// __pkvm_host_unshare_guest with their handler checks, block mappings, share-count saturation,
// and the permission / access-flag calls on shared mappings.

import { describe, expect, it } from "vitest";
import type { Args } from "../model/args.js";
import { GuestEntry, PageState, PROT_R, PROT_RWX, PROT_W, PROT_X } from "../model/state.js";
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
const OVERFLOW = Number.MAX_SAFE_INTEGER;
const LOADED: readonly Call[] = [...BOOT_PVM, ...BOOT_NPVM, ["vcpu_load", { vm: NPVM, vcpu: 0 }]];

const share = (a: Partial<Args>): Partial<Args> => ({ vm: NPVM, nr_pages: 1, prot: PROT_RWX, ...a });
const gfns = (...g: number[]) => g.map((x) => `vm ${NPVM} gfn ${x}`);

describe("host_share_guest", () => {
  it("needs a loaded vCPU of that VM, and that VM non-protected (handler: -EINVAL)", () => {
    const m = machineAfter(TEST_WORLD, [...BOOT_PVM, ...BOOT_NPVM]);
    expectRefused(m, "host_share_guest", share({ pfn: 12, gfn: 0 }), "-EINVAL");
    m.run("vcpu_load", { vm: PVM, vcpu: 0 });
    expectRefused(m, "host_share_guest", share({ pfn: 12, gfn: 0 }), "-EINVAL"); // another VM's vCPU
    expectRefused(m, "host_share_guest", share({ vm: PVM, pfn: 12, gfn: 0 }), "-EINVAL"); // protected
  });

  it("checks prot first: bits outside RWX are -EINVAL before any range or walk check", () => {
    const m = machineAfter(TEST_WORLD, LOADED);
    expectRefused(m, "host_share_guest", share({ pfn: 12, gfn: 4, prot: 8 }), "-EINVAL");
    expectRefused(m, "host_share_guest", share({ pfn: 0, gfn: 0, prot: 15 }), "-EINVAL");
  });

  it("then the pfn range: past the limit or overflowing is -EINVAL, not -EPERM or -ERANGE", () => {
    const m = machineAfter(TEST_WORLD, LOADED);
    expectRefused(m, "host_share_guest", share({ pfn: 20, gfn: 4 }), "-EINVAL");
    expectRefused(m, "host_share_guest", share({ pfn: OVERFLOW, gfn: 0 }), "-EINVAL");
    expectRefused(m, "host_share_guest", share({ pfn: 12, gfn: 0, nr_pages: OVERFLOW }), "-EINVAL");
  });

  it("then the transition size: one page or one aligned block; nr_pages 0 is -EINVAL", () => {
    const m = machineAfter(TEST_WORLD, LOADED);
    for (const [pfn, gfn, nr_pages] of [
      [12, 4, 0],
      [12, 0, 3],
      [13, 0, 2], // pfn misaligned
      [12, 1, 2], // gfn misaligned
      [12, 4, 4],
    ]) {
      expectRefused(m, "host_share_guest", share({ pfn, gfn, nr_pages }), "-EINVAL");
    }
  });

  it("then allowed memory: one region (-EINVAL), memory without NOMAP (-EPERM), before the walk", () => {
    const m = machineAfter(TEST_WORLD, LOADED);
    expectRefused(m, "host_share_guest", share({ pfn: 6, gfn: 0, nr_pages: 2 }), "-EINVAL"); // RAM | NOMAP
    expectRefused(m, "host_share_guest", share({ pfn: 10, gfn: 0, nr_pages: 2 }), "-EINVAL"); // MMIO | RAM
    expectRefused(m, "host_share_guest", share({ pfn: 8, gfn: 4, nr_pages: 2 }), "-EINVAL");
    expectRefused(m, "host_share_guest", share({ pfn: 9, gfn: 4 }), "-EPERM"); // not -ERANGE
    expectRefused(m, "host_share_guest", share({ pfn: 7, gfn: 0 }), "-EPERM");
  });

  it("then the guest range: beyond the guest -ERANGE, an occupied frame -EPERM, before host state", () => {
    const m = machineAfter(TEST_WORLD, [...LOADED, ["host_share_guest", share({ pfn: 12, gfn: 1 })]]);
    expectRefused(m, "host_share_guest", share({ pfn: 0, gfn: 4 }), "-ERANGE");
    expectRefused(m, "host_share_guest", share({ pfn: 14, gfn: 4, nr_pages: 2 }), "-ERANGE");
    expectRefused(m, "host_share_guest", share({ pfn: 0, gfn: 1 }), "-EPERM");
    expectRefused(m, "host_share_guest", share({ pfn: 14, gfn: 0, nr_pages: 2 }), "-EPERM"); // gfn 1 in it
  });

  it("then each host page: SO with cnt 0 (hyp or FF-A), SB and NOPAGE are -EPERM", () => {
    const m = machineAfter(TEST_WORLD, [
      ...BOOT_PVM,
      ...BOOT_NPVM,
      ["host_share_hyp", { pfn: 12 }],
      ["host_share_ffa", { pfn: 13, nr_pages: 1 }],
      ["vcpu_load", { vm: PVM, vcpu: 0 }],
      ["host_donate_guest", { vm: PVM, pfn: 14, gfn: 0 }],
      ["guest_share_host", { vm: PVM, gfn: 0 }],
      ["vcpu_put"],
      ["vcpu_load", { vm: NPVM, vcpu: 0 }],
    ]);
    expectRefused(m, "host_share_guest", share({ pfn: 12, gfn: 0 }), "-EPERM"); // B6
    expectRefused(m, "host_share_guest", share({ pfn: 13, gfn: 0 }), "-EPERM"); // B6
    expectRefused(m, "host_share_guest", share({ pfn: 14, gfn: 0 }), "-EPERM"); // host SB
    expectRefused(m, "host_share_guest", share({ pfn: 0, gfn: 0 }), "-EPERM"); // hyp's
    expectRefused(m, "host_share_guest", share({ pfn: 1, gfn: 0 }), "-EPERM"); // VM metadata
    expectRefused(m, "host_share_guest", share({ pfn: 14, gfn: 2, nr_pages: 2 }), "-EPERM"); // 14 SB, 15 OWNED
  });

  it("shares a page already shared with guests until the count saturates (-EBUSY, B5)", () => {
    const m = machineAfter(TEST_WORLD, LOADED);
    const before = pageView(m.k, 12);
    expectOk(m, "host_share_guest", share({ pfn: 12, gfn: 0 }), [...pages(12), ...gfns(0)]);
    expectOk(m, "host_share_guest", share({ pfn: 12, gfn: 1, prot: PROT_R }), [...pages(12), ...gfns(1)]);
    expect(pageView(m.k, 12)).toEqual({ ...before, host: SHARED_OWNED, shareCount: 2 });
    expectRefused(m, "host_share_guest", share({ pfn: 12, gfn: 2 }), "-EBUSY"); // maxShareCount 2
    expect(guestView(m.k, NPVM, 1)).toEqual({
      entry: GuestEntry.MAPPED,
      state: SHARED_BORROWED,
      pfn: 12,
      prot: PROT_R,
      block: false,
    });
  });

  it("checks saturation before a later page's state", () => {
    const m = machineAfter(TEST_WORLD, [
      ...LOADED,
      ["host_share_guest", share({ pfn: 12, gfn: 0 })],
      ["host_share_guest", share({ pfn: 12, gfn: 1 })],
    ]);
    m.k.setHostState(13, NOPAGE); // would be -EPERM, but 12 comes first
    expectRefused(m, "host_share_guest", share({ pfn: 12, gfn: 2, nr_pages: 2 }), "-EBUSY");
  });

  it("maps an aligned block as one leaf, counting a share on every page", () => {
    const m = machineAfter(TEST_WORLD, LOADED);
    const before = pageView(m.k, 12);
    expectOk(m, "host_share_guest", share({ pfn: 12, gfn: 2, nr_pages: 2, prot: PROT_R | PROT_X }), [
      ...pages(12, 13),
      ...gfns(2, 3),
    ]);
    for (const [p, g] of [
      [12, 2],
      [13, 3],
    ]) {
      expect(pageView(m.k, p)).toEqual({ ...before, host: SHARED_OWNED, shareCount: 1 });
      expect(guestView(m.k, NPVM, g)).toEqual({
        entry: GuestEntry.MAPPED,
        state: SHARED_BORROWED,
        pfn: p,
        prot: PROT_R | PROT_X,
        block: true,
      });
    }
  });

  it("accepts prot \"\" (no permissions)", () => {
    const m = machineAfter(TEST_WORLD, LOADED);
    expectOk(m, "host_share_guest", share({ pfn: 12, gfn: 0, prot: 0 }), [...pages(12), ...gfns(0)]);
    expect(m.k.guestProt(NPVM, 0)).toBe(0);
  });
});

describe("host_unshare_guest", () => {
  const SHARED: readonly Call[] = [
    ...LOADED,
    ["host_share_guest", share({ pfn: 12, gfn: 0 })],
    ["host_share_guest", share({ pfn: 12, gfn: 1 })],
    ["host_share_guest", share({ pfn: 14, gfn: 2, nr_pages: 2 })],
  ];
  const unshare = (gfn: number, nr_pages = 1): Partial<Args> => ({ vm: NPVM, gfn, nr_pages });

  it("looks the VM up by handle: none or protected is -EINVAL; loading does not matter", () => {
    const m = machineAfter(TEST_WORLD, BOOT_PVM);
    expectRefused(m, "host_unshare_guest", unshare(0), "-EINVAL"); // vm 1 not initialised
    expectRefused(m, "host_unshare_guest", { vm: PVM, gfn: 0, nr_pages: 1 }, "-EINVAL");
    const s = machineAfter(TEST_WORLD, [...SHARED, ["vcpu_put"]]);
    expectOk(s, "host_unshare_guest", unshare(0), [...pages(12), ...gfns(0)]);
  });

  it("then the transition size, before the walk", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    expectRefused(m, "host_unshare_guest", unshare(0, 0), "-EINVAL");
    expectRefused(m, "host_unshare_guest", unshare(1, 2), "-EINVAL");
    expectRefused(m, "host_unshare_guest", unshare(4, 3), "-EINVAL"); // not -ERANGE
    expectRefused(m, "host_unshare_guest", unshare(0, OVERFLOW), "-EINVAL");
  });

  it("then the leaf: -ERANGE beyond the guest, -ENOENT absent, -E2BIG of another granule", () => {
    const m = machineAfter(TEST_WORLD, [...LOADED, ["host_share_guest", share({ pfn: 14, gfn: 2, nr_pages: 2 })]]);
    expectRefused(m, "host_unshare_guest", unshare(4), "-ERANGE");
    expectRefused(m, "host_unshare_guest", unshare(4, 2), "-ERANGE");
    expectRefused(m, "host_unshare_guest", unshare(0), "-ENOENT");
    expectRefused(m, "host_unshare_guest", unshare(0, 2), "-ENOENT");
    expectRefused(m, "host_unshare_guest", unshare(3), "-E2BIG"); // a page of the block
    m.run("host_share_guest", share({ pfn: 12, gfn: 0 }));
    expectRefused(m, "host_unshare_guest", unshare(0, 2), "-E2BIG"); // a page leaf, asked as a block
  });

  it("then guest SB and host SO (-EPERM); a share count of 0 is a WARN_ON: PANIC", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    m.k.setGuestState(NPVM, 1, OWNED);
    expectRefused(m, "host_unshare_guest", unshare(1), "-EPERM");
    m.k.setHostState(15, OWNED);
    m.k.setHostShareGuestCount(15, 0); // host state is checked first on each page
    expectRefused(m, "host_unshare_guest", unshare(2, 2), "-EPERM");
    m.k.setHostState(15, SHARED_OWNED);
    expectRefused(m, "host_unshare_guest", unshare(2, 2), "PANIC");
  });

  it("unmaps the leaf and gives the page back to the host when the last share goes", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    const before = pageView(m.k, 12);
    expectOk(m, "host_unshare_guest", unshare(0), [...pages(12), ...gfns(0)]);
    expect(pageView(m.k, 12)).toEqual({ ...before, shareCount: 1 });
    expect(guestView(m.k, NPVM, 0).entry).toBe(GuestEntry.ABSENT);
    expectOk(m, "host_unshare_guest", unshare(1), [...pages(12), ...gfns(1)]);
    expect(pageView(m.k, 12)).toEqual({ ...before, host: OWNED, shareCount: 0 });
    expectOk(m, "host_unshare_guest", unshare(2, 2), [...pages(14, 15), ...gfns(2, 3)]);
    expect(m.k.hostState(15)).toBe(OWNED);
    expectRefused(m, "host_unshare_guest", unshare(2, 2), "-ENOENT");
  });
});

describe("host_relax_perms_guest", () => {
  const SHARED: readonly Call[] = [
    ...LOADED,
    ["host_share_guest", share({ pfn: 12, gfn: 0, prot: PROT_R })],
    ["host_share_guest", share({ pfn: 14, gfn: 2, nr_pages: 2, prot: PROT_R })],
  ];

  it("needs a loaded vCPU of the non-protected VM", () => {
    const m = machineAfter(TEST_WORLD, [...BOOT_PVM, ...BOOT_NPVM]);
    expectRefused(m, "host_relax_perms_guest", { vm: NPVM, gfn: 0, prot: PROT_W }, "-EINVAL");
    m.run("vcpu_load", { vm: PVM, vcpu: 0 });
    expectRefused(m, "host_relax_perms_guest", { vm: NPVM, gfn: 0, prot: PROT_W }, "-EINVAL");
    expectRefused(m, "host_relax_perms_guest", { vm: PVM, gfn: 0, prot: PROT_W }, "-EINVAL");
  });

  it("checks prot (-EINVAL) before the walk (-ERANGE); an invalid leaf is -EAGAIN", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    expectRefused(m, "host_relax_perms_guest", { vm: NPVM, gfn: 4, prot: 8 }, "-EINVAL");
    expectRefused(m, "host_relax_perms_guest", { vm: NPVM, gfn: 4, prot: PROT_W }, "-ERANGE");
    expectRefused(m, "host_relax_perms_guest", { vm: NPVM, gfn: 1, prot: PROT_W }, "-EAGAIN");
  });

  it("only adds permissions, to the whole leaf", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    expectOk(m, "host_relax_perms_guest", { vm: NPVM, gfn: 0, prot: PROT_W }, gfns(0));
    expect(m.k.guestProt(NPVM, 0)).toBe(PROT_R | PROT_W);
    expectOk(m, "host_relax_perms_guest", { vm: NPVM, gfn: 0, prot: PROT_R }, []);
    expectOk(m, "host_relax_perms_guest", { vm: NPVM, gfn: 0, prot: 0 }, []);
    expect(m.k.guestProt(NPVM, 0)).toBe(PROT_R | PROT_W);
    expectOk(m, "host_relax_perms_guest", { vm: NPVM, gfn: 3, prot: PROT_X }, gfns(2, 3));
    expect(m.k.guestProt(NPVM, 2)).toBe(PROT_R | PROT_X);
  });
});

describe("host_wrprotect_guest", () => {
  const SHARED: readonly Call[] = [
    ...LOADED,
    ["host_share_guest", share({ pfn: 12, gfn: 0 })],
    ["host_share_guest", share({ pfn: 14, gfn: 2, nr_pages: 2, prot: PROT_R | PROT_W })],
    ["vcpu_put"],
  ];

  it("looks the VM up by handle: none or protected is -EINVAL", () => {
    const m = machineAfter(TEST_WORLD, BOOT_PVM);
    expectRefused(m, "host_wrprotect_guest", { vm: NPVM, gfn: 0, nr_pages: 1 }, "-EINVAL");
    expectRefused(m, "host_wrprotect_guest", { vm: PVM, gfn: 0, nr_pages: 1 }, "-EINVAL");
  });

  it("checks the transition size before the walk", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    expectRefused(m, "host_wrprotect_guest", { vm: NPVM, gfn: 0, nr_pages: 0 }, "-EINVAL");
    expectRefused(m, "host_wrprotect_guest", { vm: NPVM, gfn: 1, nr_pages: 2 }, "-EINVAL");
    expectRefused(m, "host_wrprotect_guest", { vm: NPVM, gfn: 5, nr_pages: 3 }, "-EINVAL");
    expectRefused(m, "host_wrprotect_guest", { vm: NPVM, gfn: 4, nr_pages: 1 }, "-ERANGE");
    expectRefused(m, "host_wrprotect_guest", { vm: NPVM, gfn: 4, nr_pages: 2 }, "-ERANGE");
  });

  it("skips unmapped frames and removes W from mapped leaves, also on a dying VM", () => {
    const m = machineAfter(TEST_WORLD, [...SHARED, ["start_teardown_vm", { vm: NPVM }]]);
    expectOk(m, "host_wrprotect_guest", { vm: NPVM, gfn: 1, nr_pages: 1 }, []);
    expectOk(m, "host_wrprotect_guest", { vm: NPVM, gfn: 0, nr_pages: 2 }, gfns(0));
    expect(m.k.guestProt(NPVM, 0)).toBe(PROT_R | PROT_X);
    expectOk(m, "host_wrprotect_guest", { vm: NPVM, gfn: 3, nr_pages: 1 }, gfns(2, 3)); // the whole block
    expect(m.k.guestProt(NPVM, 2)).toBe(PROT_R);
    expect(m.k.guestState(NPVM, 2)).toBe(SHARED_BORROWED);
  });
});

describe("host_test_clear_young_guest and host_mkyoung_guest", () => {
  const SHARED: readonly Call[] = [...LOADED, ["host_share_guest", share({ pfn: 12, gfn: 0 })]];

  it("test_clear_young: handler -EINVAL, transition size -EINVAL, then a failed walk is a WARN_ON: PANIC", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    expectRefused(m, "host_test_clear_young_guest", { vm: PVM, gfn: 0, nr_pages: 1, mkold: true }, "-EINVAL");
    expectRefused(m, "host_test_clear_young_guest", { vm: NPVM, gfn: 0, nr_pages: 0 }, "-EINVAL");
    expectRefused(m, "host_test_clear_young_guest", { vm: NPVM, gfn: 5, nr_pages: 3 }, "-EINVAL");
    expectRefused(m, "host_test_clear_young_guest", { vm: NPVM, gfn: 4, nr_pages: 1 }, "PANIC");
    expectRefused(m, "host_test_clear_young_guest", { vm: NPVM, gfn: 4, nr_pages: 2, mkold: true }, "PANIC");
  });

  it("test_clear_young succeeds on mapped and unmapped frames with \"0\", changing nothing, also dying", () => {
    const m = machineAfter(TEST_WORLD, [...SHARED, ["vcpu_put"], ["start_teardown_vm", { vm: NPVM }]]);
    expectOk(m, "host_test_clear_young_guest", { vm: NPVM, gfn: 0, nr_pages: 1, mkold: true }, []);
    expectOk(m, "host_test_clear_young_guest", { vm: NPVM, gfn: 2, nr_pages: 2, mkold: false }, []);
  });

  it("mkyoung: needs the loaded non-protected vCPU; walk errors are ignored", () => {
    const m = machineAfter(TEST_WORLD, [...BOOT_PVM, ...BOOT_NPVM]);
    expectRefused(m, "host_mkyoung_guest", { vm: NPVM, gfn: 0 }, "-EINVAL");
    m.run("vcpu_load", { vm: PVM, vcpu: 0 });
    expectRefused(m, "host_mkyoung_guest", { vm: NPVM, gfn: 0 }, "-EINVAL"); // another VM's vCPU
    expectRefused(m, "host_mkyoung_guest", { vm: PVM, gfn: 0 }, "-EINVAL");
    const s = machineAfter(TEST_WORLD, SHARED);
    expectOk(s, "host_mkyoung_guest", { vm: NPVM, gfn: 0 }, []);
    expectOk(s, "host_mkyoung_guest", { vm: NPVM, gfn: 1 }, []);
    expectOk(s, "host_mkyoung_guest", { vm: NPVM, gfn: 4 }, []);
  });
});
