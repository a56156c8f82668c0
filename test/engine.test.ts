import { describe, expect, it } from "vitest";
import { PageState, S2 } from "../model/state.js";
import { Machine } from "./helpers.js";

const CONFIG = {
  pages: 8,
  mmio: [[6, 8]],
  nomap: [5],
  hypPages: [0],
  blockPages: 2,
  vms: [
    { protected: true, vcpus: 1, gfns: 4 },
    { protected: false, vcpus: 1, gfns: 4 },
  ],
};

describe("reference engine", () => {

  it("walks a page through donate to a protected guest and back", () => {
    const m = new Machine(CONFIG);
    expect(m.run("init_vm", { vm: 0, pfn: 1 })).toBe("0");
    expect(m.run("init_vcpu", { vm: 0, vcpu: 0, pfn: 2 })).toBe("0");
    expect(m.run("vcpu_load", { vm: 0, vcpu: 0 })).toBe("0");
    expect(m.run("host_donate_guest", { vm: 0, pfn: 3, gfn: 1 })).toBe("0");
    expect(m.k.hostState(3)).toBe(PageState.NOPAGE);
    expect(m.k.hostS2(3)).toBe(S2.ANNOTATION);
    expect(m.run("host_read", { pfn: 3 })).toBe("-EFAULT");
    expect(m.run("guest_write", { vm: 0, gfn: 1 })).toBe("0");
    expect(m.run("guest_share_host", { vm: 0, gfn: 1 })).toBe("0");
    expect(m.run("host_read", { pfn: 3 })).toBe("0");
    expect(m.run("guest_unshare_host", { vm: 0, gfn: 1 })).toBe("0");
    expect(m.run("vcpu_put")).toBe("0");
    expect(m.run("start_teardown_vm", { vm: 0 })).toBe("0");
    expect(m.run("host_reclaim_page_guest", { vm: 0, gfn: 1 })).toBe("0");
    expect(m.k.hostState(3)).toBe(PageState.OWNED);
    expect(m.run("finalize_teardown_vm", { vm: 0 })).toBe("0");
    expect(m.k.hostState(1)).toBe(PageState.OWNED);
    expect(m.run("init_vm", { vm: 0, pfn: 1 })).toBe("0");
  });
});
