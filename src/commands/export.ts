// `pkvm-check export TRACE --itf [-o FILE.itf.json]`: a trace in the Informal Trace Format, on
// stdout or into FILE. The trace is replayed to get its states, so the exit code is replay's: 0
// when the trace is ok, 1 when it violates a property or a return differs from its expect (the
// ITF is written either way: exporting a counterexample is the point).

import type { CommandModule } from "yargs";
import { InputError } from "../../model/config.js";
import type { ModelVariant } from "../engine.js";
import { emitItf, itfPathFor } from "../report/itf.js";
import { EXIT } from "./exit.js";
import { checkOutputFile } from "../io/output-path.js";
import { failure, replayed, writeOutputWith } from "./output.js";

interface ExportArgs {
  trace: string;
  itf: boolean;
  output?: string;
  fault?: string;
}

/** `check --itf`: the ITF of a counterexample, next to it; returns its path. */
export function writeItfNextTo(counterexample: string, variant?: ModelVariant): string {
  const { result, states } = replayed(counterexample, { variant });
  const file = itfPathFor(counterexample);
  writeOutputWith(file, (emit) => emitItf(result, states, emit));
  return file;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: "export <trace>",
  describe: "write a trace in another format: --itf, the Informal Trace Format of Apalache and Quint",
  builder: (y) =>
    y
      .positional("trace", { type: "string", demandOption: true, describe: "a pkvm-trace/1 file" })
      .option("itf", { type: "boolean", default: false, describe: "the Informal Trace Format (ADR-015), with Quint's mbt:: action metadata" })
      .option("output", { alias: "o", type: "string", describe: "write to this file (default: stdout)" })
      .option("fault", { type: "string", describe: "replay under this seeded fault (default: the trace's meta.fault, else the real model)" }),
  handler: (argv) => {
    if (!argv.itf) throw new InputError("export: choose a format: --itf");
    if (argv.output !== undefined) checkOutputFile(argv.output, "-o");
    const { result, states } = replayed(argv.trace, { fault: argv.fault });
    const verdict = result.ok ? "" : `: the trace ${failure(result)}`;
    // Set before writing: a write that fails late keeps a failing trace's exit code 1.
    process.exitCode = result.ok ? EXIT.OK : EXIT.FAILED;
    writeOutputWith(argv.output, (emit) => emitItf(result, states, emit));
    if (argv.output === undefined) {
      if (verdict) process.stderr.write(`pkvm-check: ${argv.trace}${verdict}\n`);
    } else {
      process.stdout.write(`wrote ${argv.output}${verdict}\n`);
    }
  },
};
