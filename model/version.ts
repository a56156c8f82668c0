// Recorded in every counterexample's meta: which semantics produced it. Bump when a transition's
// observable behaviour changes, so that old traces are read knowing what they were made with.
export const MODEL_VERSION = "pkvm-model/1 (upstream v7.1/v7.2 mem_protect.c + Android relinquish)";
