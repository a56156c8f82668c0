// Host <-> secure world (semantics 3 and 5a): __pkvm_host_share_ffa / __pkvm_host_unshare_ffa,
// with the FF-A proxy's own refusal of ranges the secure world does not hold.

import { describe, expect, it } from "vitest";
import { PageState } from "../model/state.js";
import { BOOT_NPVM, expectOk, expectRefused, machineAfter, Machine, pages, pageView, NPVM, TEST_WORLD } from "./helpers.js";

const { OWNED, SHARED_OWNED } = PageState;
const OVERFLOW = Number.MAX_SAFE_INTEGER;

describe("host_share_ffa", () => {
  it("checks the pfn range first: past the limit or overflowing is -EINVAL, not -EPERM", () => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, "host_share_ffa", { pfn: 20, nr_pages: 1 }, "-EINVAL");
    expectRefused(m, "host_share_ffa", { pfn: 19, nr_pages: 2 }, "-EINVAL");
    expectRefused(m, "host_share_ffa", { pfn: 1, nr_pages: OVERFLOW }, "-EINVAL");
  });

  it("then the host check: one region (-EINVAL), memory without NOMAP (-EPERM), host OWNED (-EPERM)", () => {
    const m = machineAfter(TEST_WORLD, [["host_share_hyp", { pfn: 13 }]]);
    expectRefused(m, "host_share_ffa", { pfn: 5, nr_pages: 3 }, "-EINVAL");
    expectRefused(m, "host_share_ffa", { pfn: 10, nr_pages: 2 }, "-EINVAL");
    expectRefused(m, "host_share_ffa", { pfn: 7, nr_pages: 2 }, "-EPERM");
    expectRefused(m, "host_share_ffa", { pfn: 9, nr_pages: 1 }, "-EPERM");
    expectRefused(m, "host_share_ffa", { pfn: 0, nr_pages: 1 }, "-EPERM");
    expectRefused(m, "host_share_ffa", { pfn: 12, nr_pages: 2 }, "-EPERM"); // 13 is shared with hyp
  });

  it("with nr_pages == 0 looks at pfn - 1 and changes nothing", () => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, "host_share_ffa", { pfn: 0, nr_pages: 0 }, "-EINVAL");
    expectRefused(m, "host_share_ffa", { pfn: 11, nr_pages: 0 }, "-EINVAL");
    expectRefused(m, "host_share_ffa", { pfn: 8, nr_pages: 0 }, "-EPERM");
    expectRefused(m, "host_share_ffa", { pfn: 10, nr_pages: 0 }, "-EPERM");
    expectOk(m, "host_share_ffa", { pfn: 13, nr_pages: 0 }, []);
  });

  it("makes the range host SO with the ghost FF-A mark, mapping nothing", () => {
    const m = new Machine(TEST_WORLD);
    const before = pageView(m.k, 12);
    expectOk(m, "host_share_ffa", { pfn: 12, nr_pages: 2 }, pages(12, 13));
    for (const p of [12, 13]) expect(pageView(m.k, p)).toEqual({ ...before, host: SHARED_OWNED, ffa: true });
    expectRefused(m, "host_share_ffa", { pfn: 12, nr_pages: 1 }, "-EPERM");
    expect(m.run("host_read", { pfn: 12 })).toBe("0");
  });
});

describe("host_unshare_ffa", () => {
  const SHARED = [["host_share_ffa", { pfn: 12, nr_pages: 2 }]] as const;

  it("is refused by the FF-A proxy (-EPERM) unless the whole range is FF-A shared, before any kernel check", () => {
    const m = machineAfter(TEST_WORLD, [...SHARED, ["host_share_hyp", { pfn: 14 }]]);
    expectRefused(m, "host_unshare_ffa", { pfn: 20, nr_pages: 1 }, "-EPERM"); // the kernel: -EINVAL
    expectRefused(m, "host_unshare_ffa", { pfn: 1, nr_pages: OVERFLOW }, "-EPERM");
    expectRefused(m, "host_unshare_ffa", { pfn: 12, nr_pages: 3 }, "-EPERM");
    expectRefused(m, "host_unshare_ffa", { pfn: 14, nr_pages: 1 }, "-EPERM"); // SO, but with hyp
    expectRefused(m, "host_unshare_ffa", { pfn: 5, nr_pages: 1 }, "-EPERM");
  });

  it("with nr_pages == 0 passes the proxy and runs the kernel's checks", () => {
    const m = new Machine(TEST_WORLD);
    expectRefused(m, "host_unshare_ffa", { pfn: 20, nr_pages: 0 }, "-EINVAL");
    expectRefused(m, "host_unshare_ffa", { pfn: 0, nr_pages: 0 }, "-EINVAL");
    expectRefused(m, "host_unshare_ffa", { pfn: 8, nr_pages: 0 }, "-EPERM");
    expectOk(m, "host_unshare_ffa", { pfn: 5, nr_pages: 0 }, []);
  });

  it("then runs the kernel's host check: one region, then host SO", () => {
    const m = new Machine(TEST_WORLD);
    // Marks the proxy's bookkeeping alone, so that only the kernel's checks can refuse.
    for (const p of [5, 6]) m.k.setFfaShared(p, true);
    expectRefused(m, "host_unshare_ffa", { pfn: 6, nr_pages: 2 }, "-EPERM"); // 7 is not marked
    m.k.setFfaShared(7, true);
    expectRefused(m, "host_unshare_ffa", { pfn: 6, nr_pages: 2 }, "-EINVAL"); // RAM into NOMAP
    expectRefused(m, "host_unshare_ffa", { pfn: 5, nr_pages: 1 }, "-EPERM"); // host OWNED
  });

  it("gives the range back to the host OWNED and clears the mark", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    const before = pageView(m.k, 12);
    expectOk(m, "host_unshare_ffa", { pfn: 12, nr_pages: 2 }, pages(12, 13));
    for (const p of [12, 13]) expect(pageView(m.k, p)).toEqual({ ...before, host: OWNED, ffa: false });
    expectRefused(m, "host_unshare_ffa", { pfn: 12, nr_pages: 1 }, "-EPERM");
  });

  it("can give back part of a shared range", () => {
    const m = machineAfter(TEST_WORLD, SHARED);
    expectOk(m, "host_unshare_ffa", { pfn: 13, nr_pages: 1 }, pages(13));
    expect(m.k.hostState(12)).toBe(SHARED_OWNED);
  });
});

describe("a page shared with FF-A", () => {
  it("cannot be shared with hyp or a guest, donated, or pinned", () => {
    const m = machineAfter(TEST_WORLD, [
      ["host_share_ffa", { pfn: 12, nr_pages: 1 }],
      ...BOOT_NPVM,
      ["vcpu_load", { vm: NPVM, vcpu: 0 }],
    ]);
    expectRefused(m, "host_share_hyp", { pfn: 12 }, "-EPERM");
    expectRefused(m, "host_donate_hyp", { pfn: 12, nr_pages: 1 }, "-EPERM");
    expectRefused(m, "hyp_pin_shared_mem", { pfn: 12, nr_pages: 1 }, "-EPERM");
    expectRefused(m, "host_share_guest", { vm: NPVM, pfn: 12, gfn: 0, nr_pages: 1, prot: 7 }, "-EPERM");
  });
});
