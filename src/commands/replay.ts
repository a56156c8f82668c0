// `pkvm-check replay TRACE... [--json]`: every trace is read and validated before any is run,
// so that bad input (exit 2) prints nothing on stdout.

import type { CommandModule } from "yargs";
import { formatReplay } from "../report-text.js";
import { replay, replayToJson } from "../replay.js";
import { readTrace } from "../trace.js";
import { EXIT } from "./exit.js";

interface ReplayArgs {
  traces: string[];
  json: boolean;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: "replay <traces..>",
  describe: "run trace files on the reference engine, checking every property and every expected return",
  builder: (y) =>
    y
      .positional("traces", { type: "string", array: true, demandOption: true, describe: "pkvm-trace/1 files" })
      .option("json", { type: "boolean", default: false, describe: "print one JSON document on stdout" }),
  handler: (argv) => {
    const results = argv.traces.map(readTrace).map((t) => replay(t));
    const out = argv.json
      ? JSON.stringify({ traces: results.map(replayToJson) }, null, 2)
      : results.map(formatReplay).join("\n\n");
    process.stdout.write(`${out}\n`);
    process.exitCode = results.every((r) => r.ok) ? EXIT.OK : EXIT.FAILED;
  },
};
