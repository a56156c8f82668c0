// What a state word holds, so that a property comparing two states word by word can say where
// they differ: "pfn 3", "vm 0 gfn 2", "vm 1 vcpu 0 memcache", "the loaded vCPU".

import type { Finding } from "../property.js";
import { PAGE_WORDS, type World } from "../../model/world.js";

export type Where = Omit<Finding, "message"> & { text: string };

export function wordName(w: World, i: number): Where {
  if (i === 0) return { text: "the loaded vCPU" };
  if (i <= w.pages * PAGE_WORDS) {
    const p = Math.floor((i - 1) / PAGE_WORDS);
    return { text: `pfn ${p}`, pages: [p] };
  }
  for (let v = 0; v < w.vm.length; v++) {
    const l = w.vm[v];
    if (i >= l.gfns + w.config.vms[v].gfns) continue;
    if (i >= l.gfns) return { text: `vm ${v} gfn ${i - l.gfns}`, frames: [[v, i - l.gfns]] };
    if (i >= l.tables) return { text: `vm ${v} stage-2 table ${i - l.tables}` };
    if (i >= l.memcache) return { text: `vm ${v} vcpu ${Math.floor((i - l.memcache) / (1 + w.memcacheCap))} memcache` };
    if (i >= l.vcpus) return { text: `vm ${v} vcpu ${i - l.vcpus}` };
    return { text: i === l.meta ? `vm ${v} metadata pfn` : `vm ${v} lifecycle` };
  }
  return { text: `word ${i}` };
}
