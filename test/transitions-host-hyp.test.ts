// Host <-> hyp transitions against semantics sections 2 and 3: every error path in the kernel's
// order (a state where the earlier checks pass and the later one fails), nr_pages == 0, pfns
// past the limit, overflow, ranges across region boundaries, and each success's effect on
// every field of the pages involved and nothing else.

import { describe, expect, it } from "vitest";
import type { Args } from "../model/args.js";
import { Owner, PageState, PROT_RWX, REFCOUNT_MAX, S2 } from "../model/state.js";
import { expectOk, expectRefused, machineAfter, Machine, pages, pageView, TEST_WORLD } from "./helpers.js";

const { NOPAGE, OWNED, SHARED_OWNED, SHARED_BORROWED } = PageState;
const OVERFLOW = Number.MAX_SAFE_INTEGER; // 2^53 - 1
const PAST_LIMIT = 20;

/** A host <-> hyp step that must succeed and touch exactly the pages `pfns`. */
function expectOkPages(m: Machine, name: string, args: Partial<Args>, pfns: number[]): void {
  expectOk(m, name, args, pages(...pfns));
}

describe("range checks shared by the host <-> hyp transitions (semantics 2)", () => {
  const RANGED = ["host_donate_hyp", "hyp_donate_host"];

  it.each(RANGED)("%s: a pfn at or past the limit, or an overflowing range, is -EINVAL", (name) => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, name, { pfn: PAST_LIMIT, nr_pages: 1 }, "-EINVAL");
    expectRefused(m, name, { pfn: OVERFLOW, nr_pages: 1 }, "-EINVAL");
    expectRefused(m, name, { pfn: 19, nr_pages: 2 }, "-EINVAL");
    expectRefused(m, name, { pfn: 1, nr_pages: OVERFLOW }, "-EINVAL");
    expectRefused(m, name, { pfn: PAST_LIMIT, nr_pages: 0 }, "-EINVAL");
  });

  it("host_donate_hyp with nr_pages == 0 looks at pfn - 1", () => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, "host_donate_hyp", { pfn: 0, nr_pages: 0 }, "-EINVAL"); // pfn - 1 wraps
    expectRefused(m, "host_donate_hyp", { pfn: 11, nr_pages: 0 }, "-EINVAL"); // first of a region
    expectRefused(m, "host_donate_hyp", { pfn: 7, nr_pages: 0 }, "-EINVAL"); // first of NOMAP
    expectRefused(m, "host_donate_hyp", { pfn: 9, nr_pages: 0 }, "-EINVAL"); // first of MMIO
    expectRefused(m, "host_donate_hyp", { pfn: 8, nr_pages: 0 }, "-EPERM"); // inside NOMAP
    expectRefused(m, "host_donate_hyp", { pfn: 10, nr_pages: 0 }, "-EPERM"); // inside MMIO
    expectOkPages(m, "host_donate_hyp", { pfn: 5, nr_pages: 0 }, []);
    expectOkPages(m, "host_donate_hyp", { pfn: 1, nr_pages: 0 }, []); // pfn 0 is hyp-owned: not looked at
  });

  it("hyp_donate_host with nr_pages == 0 passes its vacuous hyp check, then looks at pfn - 1", () => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, "hyp_donate_host", { pfn: 0, nr_pages: 0 }, "-EINVAL");
    expectRefused(m, "hyp_donate_host", { pfn: 11, nr_pages: 0 }, "-EINVAL");
    expectRefused(m, "hyp_donate_host", { pfn: 10, nr_pages: 0 }, "-EPERM");
    expectRefused(m, "hyp_donate_host", { pfn: 8, nr_pages: 0 }, "-EPERM");
    expectOkPages(m, "hyp_donate_host", { pfn: 5, nr_pages: 0 }, []);
  });

  it("a multi-page range must lie in one region (-EINVAL) that is RAM without NOMAP (-EPERM)", () => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, "host_donate_hyp", { pfn: 5, nr_pages: 3 }, "-EINVAL"); // RAM into NOMAP
    expectRefused(m, "host_donate_hyp", { pfn: 6, nr_pages: 2 }, "-EINVAL");
    expectRefused(m, "host_donate_hyp", { pfn: 8, nr_pages: 2 }, "-EINVAL"); // NOMAP into MMIO
    expectRefused(m, "host_donate_hyp", { pfn: 10, nr_pages: 2 }, "-EINVAL"); // MMIO into RAM
    expectRefused(m, "host_donate_hyp", { pfn: 1, nr_pages: 19 }, "-EINVAL");
    expectRefused(m, "host_donate_hyp", { pfn: 7, nr_pages: 2 }, "-EPERM");
    expectRefused(m, "host_donate_hyp", { pfn: 9, nr_pages: 2 }, "-EPERM");
    expectRefused(m, "host_donate_hyp", { pfn: 8, nr_pages: 1 }, "-EPERM");
  });

  it("the single-page calls without a range check see a pfn past the limit as MMIO: -EPERM", () => {
    const m = new Machine(TEST_WORLD);
    for (const pfn of [PAST_LIMIT, OVERFLOW]) {
      expectRefused(m, "host_share_hyp", { pfn }, "-EPERM");
      expectRefused(m, "host_unshare_hyp", { pfn }, "-EPERM");
      expectRefused(m, "hyp_pin_shared_mem", { pfn, nr_pages: 1 }, "-EPERM");
    }
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 1, nr_pages: OVERFLOW }, "-EINVAL");
  });
});

describe("host_share_hyp", () => {
  it("refuses a page that is not memory, or not NOMAP-free", () => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, "host_share_hyp", { pfn: 9 }, "-EPERM");
    expectRefused(m, "host_share_hyp", { pfn: 7 }, "-EPERM");
  });

  it("refuses a page the host does not own exclusively", () => {
    const m = machineAfter(TEST_WORLD, [["host_share_hyp", { pfn: 5 }], ["host_share_ffa", { pfn: 6, nr_pages: 1 }]]);
    expectRefused(m, "host_share_hyp", { pfn: 0 }, "-EPERM"); // hyp OWNED, host NOPAGE
    expectRefused(m, "host_share_hyp", { pfn: 5 }, "-EPERM"); // already shared with hyp
    expectRefused(m, "host_share_hyp", { pfn: 6 }, "-EPERM"); // shared with FF-A
  });

  it("then requires hyp NOPAGE", () => {
    const m = new Machine(TEST_WORLD);
    m.k.setHypState(5, SHARED_BORROWED); // host OWNED: only the hyp check can refuse
    expectRefused(m, "host_share_hyp", { pfn: 5 }, "-EPERM");
  });

  it("makes the page host SO / hyp SB and maps nothing", () => {
    const m = machineAfter(TEST_WORLD, [["host_read", { pfn: 5 }]]);
    const before = pageView(m.k, 5);
    expectOkPages(m, "host_share_hyp", { pfn: 5 }, [5]);
    expect(pageView(m.k, 5)).toEqual({ ...before, host: SHARED_OWNED, hyp: SHARED_BORROWED });
    expect(before.s2).toBe(S2.IDMAP); // the host keeps its mapping
    expect(m.k.hypS1Mapped(5)).toBe(false); // hyp maps it only while pinned
  });
});

describe("host_unshare_hyp", () => {
  it("requires host SO (memory check first), then hyp SB, then refcount 0", () => {
    const m = machineAfter(TEST_WORLD, [["host_share_ffa", { pfn: 6, nr_pages: 1 }]]);
    expectRefused(m, "host_unshare_hyp", { pfn: 9 }, "-EPERM");
    expectRefused(m, "host_unshare_hyp", { pfn: 5 }, "-EPERM"); // host OWNED
    expectRefused(m, "host_unshare_hyp", { pfn: 0 }, "-EPERM"); // hyp OWNED
    expectRefused(m, "host_unshare_hyp", { pfn: 6 }, "-EPERM"); // host SO through FF-A, hyp NOPAGE
  });

  it("checks the page states before the refcount", () => {
    const m = machineAfter(TEST_WORLD, [["host_share_ffa", { pfn: 6, nr_pages: 1 }]]);
    m.k.setRefcount(5, 1);
    m.k.setRefcount(6, 1);
    expectRefused(m, "host_unshare_hyp", { pfn: 5 }, "-EPERM");
    expectRefused(m, "host_unshare_hyp", { pfn: 6 }, "-EPERM");
  });

  it("is -EBUSY while the hyp holds a pin, and succeeds once the last pin is dropped", () => {
    const m = machineAfter(TEST_WORLD, [
      ["host_share_hyp", { pfn: 5 }],
      ["hyp_pin_shared_mem", { pfn: 5, nr_pages: 1 }],
      ["hyp_pin_shared_mem", { pfn: 5, nr_pages: 1 }],
      ["hyp_unpin_shared_mem", { pfn: 5, nr_pages: 1 }],
    ]);
    expectRefused(m, "host_unshare_hyp", { pfn: 5 }, "-EBUSY");
    expectOkPages(m, "hyp_unpin_shared_mem", { pfn: 5, nr_pages: 1 }, [5]);
    const before = pageView(m.k, 5);
    expectOkPages(m, "host_unshare_hyp", { pfn: 5 }, [5]);
    expect(pageView(m.k, 5)).toEqual({ ...before, host: OWNED, hyp: NOPAGE });
  });
});

describe("host_donate_hyp", () => {
  it("checks every page of the range for host OWNED, after the range and memory checks", () => {
    const m = machineAfter(TEST_WORLD, [["host_share_hyp", { pfn: 13 }]]);
    expectRefused(m, "host_donate_hyp", { pfn: 0, nr_pages: 1 }, "-EPERM");
    expectRefused(m, "host_donate_hyp", { pfn: 12, nr_pages: 2 }, "-EPERM"); // only 13 is wrong
    expectRefused(m, "host_donate_hyp", { pfn: 13, nr_pages: 1 }, "-EPERM");
  });

  it("then requires hyp NOPAGE", () => {
    const m = new Machine(TEST_WORLD);
    m.k.setHypState(12, SHARED_BORROWED);
    expectRefused(m, "host_donate_hyp", { pfn: 11, nr_pages: 2 }, "-EPERM");
  });

  it("makes the range hyp OWNED and mapped at EL2, and host NOPAGE behind hyp annotations", () => {
    const m = machineAfter(TEST_WORLD, [["host_write", { pfn: 12 }]]);
    const before = [pageView(m.k, 12), pageView(m.k, 13)];
    expectOkPages(m, "host_donate_hyp", { pfn: 12, nr_pages: 2 }, [12, 13]);
    [12, 13].forEach((p, i) =>
      expect(pageView(m.k, p)).toEqual({
        ...before[i],
        host: NOPAGE,
        hyp: OWNED,
        hypS1: true,
        s2: S2.ANNOTATION,
        s2Prot: 0,
        annotation: [Owner.HYP, 0, 0],
      }),
    );
    expectRefused(m, "host_read", { pfn: 12 }, "-EFAULT");
  });

  it("accepts the last pages below the limit", () => {
    const m = new Machine(TEST_WORLD);
    expectOkPages(m, "host_donate_hyp", { pfn: 18, nr_pages: 2 }, [18, 19]);
  });
});

describe("hyp_donate_host", () => {
  it("checks hyp OWNED before the host check, so a range crossing regions is -EPERM", () => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, "hyp_donate_host", { pfn: 6, nr_pages: 2 }, "-EPERM");
    expectRefused(m, "hyp_donate_host", { pfn: 5, nr_pages: 1 }, "-EPERM");
    expectRefused(m, "hyp_donate_host", { pfn: 0, nr_pages: 2 }, "-EPERM"); // pfn 1 is not hyp's
  });

  it("then runs the host check: memory (-EINVAL / -EPERM), then host NOPAGE", () => {
    const m = new Machine(TEST_WORLD);
    for (const p of [6, 7, 8, 5]) m.k.setHypState(p, OWNED);
    expectRefused(m, "hyp_donate_host", { pfn: 6, nr_pages: 2 }, "-EINVAL");
    expectRefused(m, "hyp_donate_host", { pfn: 7, nr_pages: 2 }, "-EPERM");
    expectRefused(m, "hyp_donate_host", { pfn: 5, nr_pages: 1 }, "-EPERM"); // host still OWNED
  });

  it("then refuses a page the hyp still references (-EBUSY, 7.2)", () => {
    const m = new Machine(TEST_WORLD);
    m.k.setRefcount(0, 1);
    expectRefused(m, "hyp_donate_host", { pfn: 0, nr_pages: 1 }, "-EBUSY");
  });

  it("unmaps the pages at EL2 and idmaps them for the host, without zeroing", () => {
    const m = machineAfter(TEST_WORLD, [["host_write", { pfn: 12 }], ["host_donate_hyp", { pfn: 12, nr_pages: 2 }]]);
    const before = [pageView(m.k, 12), pageView(m.k, 13)];
    expectOkPages(m, "hyp_donate_host", { pfn: 12, nr_pages: 2 }, [12, 13]);
    [12, 13].forEach((p, i) =>
      expect(pageView(m.k, p)).toEqual({
        ...before[i],
        host: OWNED,
        hyp: NOPAGE,
        hypS1: false,
        s2: S2.IDMAP,
        s2Prot: PROT_RWX,
        annotation: null,
      }),
    );
    expect(m.k.contents(12)).toBe(before[0].contents); // not zeroed: its callers must
  });

  it("returns a boot-time hyp page", () => {
    const m = new Machine(TEST_WORLD);
    expectOkPages(m, "hyp_donate_host", { pfn: 0, nr_pages: 1 }, [0]);
    expect(m.k.hostState(0)).toBe(OWNED);
    expect(m.run("host_read", { pfn: 0 })).toBe("0");
  });
});

describe("hyp_pin_shared_mem", () => {
  it("requires host SO (after the memory check) and hyp SB on every page", () => {
    const m = machineAfter(TEST_WORLD, [
      ["host_share_hyp", { pfn: 12 }],
      ["host_share_ffa", { pfn: 14, nr_pages: 1 }],
    ]);
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 9, nr_pages: 1 }, "-EPERM");
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 6, nr_pages: 2 }, "-EINVAL");
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 5, nr_pages: 1 }, "-EPERM"); // host OWNED
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 12, nr_pages: 2 }, "-EPERM"); // 13 host OWNED
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 14, nr_pages: 1 }, "-EPERM"); // SO, hyp NOPAGE
  });

  it("panics at the u16 refcount maximum (hyp_page_ref_inc), changing nothing", () => {
    const m = machineAfter(TEST_WORLD, [["host_share_hyp", { pfn: 12 }]]);
    m.k.setRefcount(12, REFCOUNT_MAX);
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 12, nr_pages: 1 }, "PANIC");
  });

  it("counts pins and maps the page at EL2 on the first", () => {
    const m = machineAfter(TEST_WORLD, [["host_share_hyp", { pfn: 12 }], ["host_share_hyp", { pfn: 13 }]]);
    const before = pageView(m.k, 12);
    expectOkPages(m, "hyp_pin_shared_mem", { pfn: 12, nr_pages: 2 }, [12, 13]);
    expect(pageView(m.k, 12)).toEqual({ ...before, refcount: 1, hypS1: true });
    expectOkPages(m, "hyp_pin_shared_mem", { pfn: 12, nr_pages: 1 }, [12]);
    expect(pageView(m.k, 12)).toEqual({ ...before, refcount: 2, hypS1: true });
    expect(m.k.refcount(13)).toBe(1);
  });

  it("with nr_pages == 0 pins nothing", () => {
    const m = new Machine(TEST_WORLD);
    expectOkPages(m, "hyp_pin_shared_mem", { pfn: 5, nr_pages: 0 }, []);
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 11, nr_pages: 0 }, "-EINVAL");
  });
});

describe("hyp_unpin_shared_mem", () => {
  const PINNED = [
    ["host_share_hyp", { pfn: 12 }],
    ["host_share_hyp", { pfn: 19 }],
    ["hyp_pin_shared_mem", { pfn: 12, nr_pages: 1 }],
    ["hyp_pin_shared_mem", { pfn: 12, nr_pages: 1 }],
    ["hyp_pin_shared_mem", { pfn: 19, nr_pages: 1 }],
  ] as const;

  it("panics (BUG_ON) on a page with refcount 0 anywhere in the range, changing nothing", () => {
    const m = machineAfter(TEST_WORLD, PINNED);
    expectRefused(m, "hyp_unpin_shared_mem", { pfn: 5, nr_pages: 1 }, "PANIC");
    expectRefused(m, "hyp_unpin_shared_mem", { pfn: 12, nr_pages: 2 }, "PANIC"); // 13 is not pinned
  });

  it("panics on a range past the end", () => {
    const m = machineAfter(TEST_WORLD, PINNED);
    expectRefused(m, "hyp_unpin_shared_mem", { pfn: 19, nr_pages: 2 }, "PANIC");
    expectRefused(m, "hyp_unpin_shared_mem", { pfn: PAST_LIMIT, nr_pages: 1 }, "PANIC");
    expectRefused(m, "hyp_unpin_shared_mem", { pfn: 19, nr_pages: OVERFLOW }, "PANIC");
  });

  it("drops one pin per page and unmaps at EL2 when the last goes", () => {
    const m = machineAfter(TEST_WORLD, PINNED);
    const before = pageView(m.k, 12);
    expectOkPages(m, "hyp_unpin_shared_mem", { pfn: 12, nr_pages: 1 }, [12]);
    expect(pageView(m.k, 12)).toEqual({ ...before, refcount: 1 });
    expectOkPages(m, "hyp_unpin_shared_mem", { pfn: 12, nr_pages: 1 }, [12]);
    expect(pageView(m.k, 12)).toEqual({ ...before, refcount: 0, hypS1: false });
    expectOkPages(m, "hyp_unpin_shared_mem", { pfn: 5, nr_pages: 0 }, []);
  });
});
