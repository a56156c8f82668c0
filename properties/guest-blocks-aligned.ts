// A guest stage-2 block leaf is one leaf for `blockPages` frames (the kernel's PMD): the model
// writes it out frame by frame, so every frame of a block says so. The block's first gfn and its
// pfn are block-aligned (__guest_check_transition_size), the block lies inside the guest, and its
// frames map the `blockPages` consecutive pages from that pfn, all in one state with one prot.

import { GuestEntry, VmLife, type PkvmState } from "../model/state.js";
import { finding, type Property } from "./property.js";

/** Why the block leaf at (v, g) is not whole and aligned, or null. */
function blockProblem(s: PkvmState, v: number, g: number): string | null {
  const b = s.w.config.blockPages;
  const start = g - (g % b);
  const base = s.guestPfn(v, g) - (g - start);
  if (base % b !== 0) return `its block at gfn ${start} maps pfn ${base}, not ${b}-page aligned`;
  if (start + b > s.w.config.vms[v].gfns) return `its block at gfn ${start} runs past the guest's ${s.w.config.vms[v].gfns} gfns`;
  for (let h = start; h < start + b; h++) {
    if (s.guestEntry(v, h) !== GuestEntry.MAPPED || !s.guestBlock(v, h)) return `gfn ${h} of the same block is no block leaf`;
    if (s.guestPfn(v, h) !== base + (h - start)) return `gfn ${h} of the same block maps pfn ${s.guestPfn(v, h)}, not ${base + (h - start)}`;
    if (s.guestState(v, h) !== s.guestState(v, g) || s.guestProt(v, h) !== s.guestProt(v, g)) return `gfn ${h} of the same block differs in state or prot`;
  }
  return null;
}

const property: Property = {
  id: "guest-blocks-aligned",
  description: "a guest block leaf has its gfn and pfn block-aligned and maps blockPages consecutive pages",
  checkState(s) {
    const { vms } = s.w.config;
    for (let v = 0; v < vms.length; v++) {
      if (s.vmLife(v) === VmLife.ABSENT) continue;
      for (let g = 0; g < vms[v].gfns; g++) {
        if (s.guestEntry(v, g) !== GuestEntry.MAPPED || !s.guestBlock(v, g)) continue;
        const problem = blockProblem(s, v, g);
        if (problem) return finding(`vm ${v} gfn ${g}: block leaf, but ${problem}`, { pages: [s.guestPfn(v, g)], frames: [[v, g]] });
      }
    }
    return null;
  },
};

export default property;
