// share-count-bounded, guest-blocks-aligned and page-accounting (issue 18): each catches a
// hand-made bad state (and page-accounting a bad step), and each is the only property that
// catches its seeded fault in the exhaustive search up to the depth where it does. (Measured
// beyond: without share-count-bounded, the whole of `default` under B5-share-count-saturates-late
// violates nothing; without the others, their faults' worlds violate nothing to depth 7.)

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stepOf } from "../model/actions.js";
import type { Args } from "../model/args.js";
import { Pkvm } from "../model/pkvm.js";
import { PageState, PROT_R, PROT_RWX, type PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import type { Finding } from "../properties/property.js";
import { PROPERTIES, propertyById } from "../properties/registry.js";
import { alphabet } from "../src/alphabet.js";
import { readBaseline } from "../src/check/baseline.js";
import { Engine } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { bfsConfig } from "../src/faults/kill.js";
import { maskRealModelFindings } from "../src/faults/known.js";
import { faultByName } from "../src/faults/registry.js";
import { machineAfter, memcacheWorld, type Call } from "./helpers.js";

const { OWNED, SHARED_BORROWED: SB } = PageState;

/** Room for a borrowed block, a donated page and the memcache. */
const CONFIG = memcacheWorld(15);

/**
 * vm 1 (non-protected: metadata 1, vCPU 2, memcache 3, table 4) borrows pfns 6-7 as a block at
 * gfns 0-1 and pfn 8 twice, at gfns 2 and 3; vm 0 (protected: metadata 9, vCPU 10, memcache 11,
 * table 12) owns pfn 13 at gfn 0. pfns 5 and 14 are the host's.
 */
const SETUP: readonly Call[] = [
  ["init_vm", { vm: 1, pfn: 1 }],
  ["init_vcpu", { vm: 1, vcpu: 0, pfn: 2 }],
  ["host_topup_memcache", { vm: 1, vcpu: 0, pfn: 3 }],
  ["host_topup_memcache", { vm: 1, vcpu: 0, pfn: 4 }],
  ["vcpu_load", { vm: 1, vcpu: 0 }],
  ["host_share_guest", { vm: 1, pfn: 6, gfn: 0, nr_pages: 2, prot: PROT_RWX }],
  ["host_share_guest", { vm: 1, pfn: 8, gfn: 2, nr_pages: 1, prot: PROT_R }],
  ["host_share_guest", { vm: 1, pfn: 8, gfn: 3, nr_pages: 1, prot: PROT_R }],
  ["vcpu_put"],
  ["init_vm", { vm: 0, pfn: 9 }],
  ["init_vcpu", { vm: 0, vcpu: 0, pfn: 10 }],
  ["host_topup_memcache", { vm: 0, vcpu: 0, pfn: 11 }],
  ["host_topup_memcache", { vm: 0, vcpu: 0, pfn: 12 }],
  ["vcpu_load", { vm: 0, vcpu: 0 }],
  ["host_donate_guest", { vm: 0, pfn: 13, gfn: 0 }],
];

const BASE = machineAfter(CONFIG, SETUP);

function edited(edit: (k: Pkvm) => void): Pkvm {
  const k = new Pkvm(BASE.engine.world, BASE.state.slice());
  edit(k);
  return k;
}

const stateFinding = (id: string, edit: (k: Pkvm) => void): Finding | null => propertyById(id)!.checkState!(edited(edit));

/** page-accounting's step check on a made-up step from the base state to its edit. */
function stepFinding(name: string, args: Partial<Args>, edit: (k: Pkvm) => void): Finding | null {
  return propertyById("page-accounting")!.checkStep!(edited(() => {}), stepOf(name, args), "0", edited(edit));
}

function violations(s: PkvmState): string[] {
  return PROPERTIES.flatMap((p) => {
    const f = p.checkState?.(s);
    return f ? [`${p.id}: ${f.message}`] : [];
  });
}

describe("the accounting properties catch a bad state", () => {
  it("the base state is clean", () => {
    expect(violations(edited(() => {}))).toEqual([]);
    expect(BASE.k.hostShareGuestCount(8)).toBe(2);
    expect(BASE.k.tablePfn(0, 0)).toBe(12);
    expect(BASE.k.guestBlock(1, 0)).toBe(true);
  });

  it("share-count-bounded: a count past the maximum, even with a leaf for each share; a count with no leaf", () => {
    const past = stateFinding("share-count-bounded", (k) => {
      k.setGuestMapping(1, 1, 8, SB, PROT_R, false);
      k.setHostShareGuestCount(8, 3);
    });
    expect(past?.message).toBe("pfn 8: share count 3 above the maximum 2");
    expect(stateFinding("share-count-bounded", (k) => k.setHostShareGuestCount(8, 0xffffffff))?.message).toMatch(/share count 4294967295 above/);
    expect(stateFinding("share-count-bounded", (k) => k.setHostShareGuestCount(8, 1))?.message).toBe("pfn 8: share count 1 but 2 guest SB leaves");
  });

  it("guest-blocks-aligned: an unaligned pfn or gfn, a hole, a gap in the pages, a block past the guest", () => {
    const block = (gfn: number, pfn: number) => (k: Pkvm) => k.setGuestMapping(1, gfn, pfn, SB, PROT_RWX, true);
    const f = (edit: (k: Pkvm) => void) => stateFinding("guest-blocks-aligned", edit)?.message;
    expect(f((k) => [0, 1].forEach((g) => block(g, 7 + g)(k)))).toMatch(/vm 1 gfn 0: block leaf, but its block at gfn 0 maps pfn 7, not 2-page aligned/);
    expect(f(block(2, 4))).toMatch(/vm 1 gfn 2: .*gfn 3 of the same block is no block leaf/);
    expect(f((k) => k.clearGuestEntry(1, 1))).toMatch(/gfn 1 of the same block is no block leaf/);
    expect(f(block(1, 9))).toMatch(/gfn 0: block leaf, but gfn 1 of the same block maps pfn 9, not 7/);
    expect(f((k) => k.setGuestProt(1, 1, PROT_R))).toMatch(/differs in state or prot/);
    const short = machineAfter({ ...CONFIG, vms: [CONFIG.vms[0], { protected: false, vcpus: 1, gfns: 3 }] }, SETUP.slice(0, 2));
    const k = new Pkvm(short.engine.world, short.state.slice());
    k.setGuestMapping(1, 2, 6, SB, PROT_RWX, true);
    expect(propertyById("guest-blocks-aligned")!.checkState!(k)?.message).toMatch(/runs past the guest's 3 gfns/);
  });

  it("page-accounting: a page in no place, in two, a VM page the hyp does not own", () => {
    const f = (edit: (k: Pkvm) => void) => stateFinding("page-accounting", edit)?.message;
    expect(f((k) => k.setHostState(14, PageState.NOPAGE))).toMatch(/^pfn 14: in no place/);
    expect(f((k) => k.setVcpuPfn(0, 0, 9))).toBe("pfn 9: in 2 places: 2 VM uses (vm 0 metadata among them)");
    expect(f((k) => k.setHostState(12, OWNED))).toBe("pfn 12: in 2 places: host OWNED, vm 0 stage-2 table 0");
    expect(f((k) => k.setHypState(10, PageState.NOPAGE))).toBe("pfn 10: vm 0 vcpu 0 metadata but hyp NOPAGE");
    expect(f((k) => k.setLeaked(13, true))).toBe("pfn 13: in 2 places: leaked, owned by vm 0 gfn 0");
  });

  it("page-accounting: a step that puts a page where that call cannot", () => {
    const dropTop = (k: Pkvm) => k.memcachePop(0, 0); // pfn 11 stays hyp OWNED, used by nothing
    expect(stepFinding("host_topup_memcache", { vm: 0, vcpu: 0, pfn: 11 }, dropTop)?.message).toBe(
      "pfn 11: host_topup_memcache moved it from a VM's pages to the hyp's own pages",
    );
    expect(stepFinding("host_donate_hyp", { pfn: 11, nr_pages: 1 }, dropTop)).toBeNull();
    const give = (k: Pkvm) => k.doHostDonateHyp(14, 1);
    expect(stepFinding("host_donate_hyp", { pfn: 14, nr_pages: 1 }, give)).toBeNull();
    expect(stepFinding("init_vm", { vm: 0, pfn: 14 }, give)?.message).toBe("pfn 14: init_vm moved it from the host to the hyp's own pages");
  });
});

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BASELINE = readBaseline(join(ROOT, "findings/known-findings.json"));

describe("each accounting property is the only one that catches its seeded fault", () => {
  const cases = [
    ["B5-share-count-saturates-late", "share-count-bounded", 6],
    ["N4-block-share-pfn-unaligned", "guest-blocks-aligned", 4],
    ["N5-topup-memcache-drops-page", "page-accounting", 4],
  ] as const;
  for (const [name, id, steps] of cases) {
    it(`${name}: ${id} in ${steps} steps, and no other property as deep`, () => {
      const fault = faultByName(name)!;
      const w = new World(bfsConfig(fault).config);
      const properties = maskRealModelFindings(PROPERTIES, BASELINE);
      const r = bfs(new Engine(w, fault.variant), alphabet(w), { properties, maxDepth: steps, keepGoing: true });
      expect(r.violations.map((v) => [v.property, v.path.length])).toEqual([[id, steps]]);
    }, 300_000);
  }
});
