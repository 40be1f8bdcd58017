// `ciml doctor`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option } from "../option-spec.ts";

export const doctorCommand: CommandSpec = {
  name: "doctor",
  summary: "Check this build's runtime: train a tiny model on the chosen tfjs backend",
  examples: ["ciml doctor", "ciml doctor --backend cpu --json"],
  options: [option("--backend <name>", "wasm, cpu or tensorflow")],
  async load() {
    const [{ doctor, DOCTOR_DEFAULTS: d }, { parseBackend }] = await Promise.all([
      import("../../pipeline/doctor.ts"),
      import("../../pipeline/model/tfjs-runtime.ts"),
    ]);
    return stepCommand(doctor, (f) => ({ backend: parseBackend(f.string("--backend", d.backend)) }));
  },
};
