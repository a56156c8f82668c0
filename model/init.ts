// The initial state of interface.md: every RAM page host OWNED with an empty host stage-2 entry,
// hypPages hyp OWNED behind a hyp annotation, no VM, no vCPU loaded.

import { Pkvm } from "./pkvm.js";
import { Contents, PageState } from "./state.js";
import type { World } from "./world.js";

export function initialState(w: World): Uint32Array {
  const k = new Pkvm(w);
  for (let p = 0; p < w.pages; p++) {
    if (!w.isMemory(p)) continue;
    k.setHostState(p, PageState.OWNED);
    k.setContents(p, Contents.HOST);
  }
  for (const p of w.config.hypPages) {
    k.doHostDonateHyp(p, 1);
    k.setContents(p, Contents.ZERO); // the hyp's free pool
  }
  return k.s;
}
