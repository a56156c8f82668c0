// The worked example of properties/README.md: the property holds on the real model (explored
// with the researchers' helper), catches a hand-made bad state, and catches a planted fault
// through the random engine with a minimal trace.

import { describe, expect, it } from "vitest";
import type { Args } from "../model/args.js";
import { OK } from "../model/errno.js";
import { host_share_guest } from "../model/guest_share.js";
import { PageState, PkvmState, VmLife } from "../model/state.js";
import type { Pkvm } from "../model/pkvm.js";
import { propertyById } from "../properties/registry.js";
import type { ModelVariant } from "../src/engine.js";
import { exploreModel, ModelViolation } from "../src/testing.js";
import { Machine } from "./helpers.js";

const property = propertyById("guest-shared-page-exclusive")!;

const CONFIG = {
  pages: 8,
  hypPages: [0],
  vms: [
    { protected: true, vcpus: 1, gfns: 2 },
    { protected: false, vcpus: 1, gfns: 2 },
  ],
};

/** A protected guest's page, shared with the host. */
function sharedByProtectedGuest(): Machine {
  const m = new Machine(CONFIG);
  for (const [name, args] of [
    ["init_vm", { vm: 0, pfn: 1 }],
    ["init_vcpu", { vm: 0, vcpu: 0, pfn: 2 }],
    ["vcpu_load", { vm: 0, vcpu: 0 }],
    ["host_donate_guest", { vm: 0, pfn: 3, gfn: 0 }],
    ["guest_share_host", { vm: 0, gfn: 0 }],
  ] as const) expect(m.run(name, args)).toBe("0");
  return m;
}

/** A faulty host_share_guest that accepts a page the host only borrows (host SB). */
const SHARE_BORROWED: ModelVariant = {
  transitions: {
    host_share_guest: (k: Pkvm, a: Args) => {
      if (k.hostState(a.pfn) !== PageState.SHARED_BORROWED || a.nr_pages !== 1 || k.loadedVm() !== a.vm) return host_share_guest(k, a);
      k.guestStage2Map(a.vm, k.loadedVcpu(), a.gfn, a.pfn, 1, PageState.SHARED_BORROWED, a.prot);
      return OK;
    },
  },
};

describe("guest-shared-page-exclusive (the worked example)", () => {
  it("holds on the real model", () => {
    expect(() => exploreModel({ config: CONFIG, properties: [property], runs: 200 })).not.toThrow();
  });

  it("catches a hand-made state where another guest maps the shared page", () => {
    const m = sharedByProtectedGuest();
    expect(property.checkState!(m.k)).toBeNull();
    const bad = new PkvmState(m.engine.world, m.state.slice());
    bad.setVmLife(1, VmLife.LIVE);
    bad.setGuestMapping(1, 1, 3, PageState.SHARED_BORROWED, 7, false);
    const f = property.checkState!(bad);
    expect(f?.message).toMatch(/^pfn 3: shared with the host by vm 0 gfn 0/);
    expect(f?.pages).toEqual([3]);
  });

  it("finds a planted fault with a short trace through the researchers' helper", () => {
    let caught: ModelViolation | undefined;
    try {
      exploreModel({ config: CONFIG, properties: [property], variant: SHARE_BORROWED, runs: 2000 });
    } catch (e) {
      caught = e as ModelViolation;
    }
    expect(caught).toBeInstanceOf(ModelViolation);
    expect(caught!.violation.property).toBe("guest-shared-page-exclusive");
    expect(caught!.violation.steps.at(-1)!.action.name).toBe("host_share_guest");
    expect(caught!.message).toContain("reproduce: exploreModel(");
  });
});
