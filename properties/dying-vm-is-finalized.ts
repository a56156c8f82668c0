// Leads-to, per VM slot: DYING ~> not DYING, under weak fairness of the host's calls. Once the
// host starts a VM's teardown, the VM is finalized in every run where the host keeps making
// each call that would succeed, whatever the guests and the hyp do meanwhile. pKVM promises it
// by construction: start_teardown_vm refuses a VM with a loaded vCPU and vcpu_load refuses a
// dying VM, so no guest can run, and nothing can take the reference finalize_teardown_vm needs
// to be free. A model in which some party could hold a dying VM forever violates it with a
// lasso: a run that reaches DYING and then cycles, fairly, without finalizing.

import { VmLife } from "../model/state.js";
import type { LeadsTo } from "./property.js";

const property: LeadsTo = {
  kind: "leads-to",
  id: "dying-vm-is-finalized",
  description: "a DYING VM is finalized in every run fair to the host's calls (DYING ~> not DYING)",
  instances: (w) => w.config.vms.length,
  p: (s, v) => s.vmLife(v) === VmLife.DYING,
  q: (s, v) => s.vmLife(v) !== VmLife.DYING,
  describe: (v) => `vm ${v} stays DYING forever`,
};
export default property;
