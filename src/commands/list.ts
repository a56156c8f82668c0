// `pkvm-check list [--config NAME]`: the built-in configs, the actions and the properties, each
// with one line. With --config, that config in full and only the actions it allows.

import type { CommandModule } from "yargs";
import { ACTIONS } from "../../model/actions.js";
import { PROPERTIES, TEMPORAL_PROPERTIES } from "../../properties/registry.js";
import { World } from "../../model/world.js";
import { describeAlphabet } from "../alphabet.js";
import { proofStanding } from "../smt/scope.js";
import { BUILTIN_CONFIGS, builtinConfig, resolveConfig } from "../configs.js";
import { EXIT } from "./exit.js";

interface ListArgs {
  config?: string;
}

/** `  name  description`, names padded to one column. */
function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, doc]) => `  ${name.padEnd(width)}  ${doc}`);
}

function configLines(name?: string): { lines: string[]; memcache: boolean } {
  if (name === undefined) {
    return { lines: table(BUILTIN_CONFIGS.map((c) => [c.name, c.description])), memcache: true };
  }
  const { config } = resolveConfig(name);
  const doc = builtinConfig(name)?.description ?? "read from a file";
  const rows = describeAlphabet(new World(config));
  const total = rows.reduce((n, r) => n + r.steps, 0);
  return {
    lines: [
      `  ${name}  ${doc}`,
      `    ${JSON.stringify(config)}`,
      "",
      `Alphabet of ${name}: ${total} steps tried in every state by the explorers (hyp_donate_host only with --allow-internal):`,
      ...table(rows.map((r) => [`${r.action} x${r.steps}`, r.domains])),
    ],
    memcache: config.memcache,
  };
}

export const listCommand: CommandModule<object, ListArgs> = {
  command: "list",
  describe: "list the built-in configs, the actions and the properties",
  builder: (y) => y.option("config", { type: "string", describe: "show this config (a built-in name or a JSON file) in full" }),
  handler: (argv) => {
    const configs = configLines(argv.config);
    const actions = ACTIONS.filter((a) => configs.memcache || !a.memcacheOnly);
    const lines = [
      "Configs:",
      ...configs.lines,
      "",
      "Actions:",
      ...table(actions.map((a) => [`${a.name}(${a.args.join(", ")})`, a.doc])),
      "",
      "Properties:",
      ...table([
        ...PROPERTIES.map((p): [string, string] => [p.id, `[${proofStanding(p.id)}]  ${p.description}`]),
        ...TEMPORAL_PROPERTIES.map((p): [string, string] => [p.id, `[temporal: ${p.kind}, exhaustive search only]  ${p.description}`]),
      ]),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    process.exitCode = EXIT.OK;
  },
};
