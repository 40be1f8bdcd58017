// The two facts ciml reads from a Zuul build's `zuul-info/inventory.yaml`: the nodepool provider and label
// of the first host, which the old subunit2sql database held as node_provider and build_node.
// Bun's own YAML parser reads it (no dependency); the text is size-capped before parsing and only two
// strings are taken out of the result, checked by zod.
import { z } from "zod";

/** Inventories are a few kilobytes; anything much larger is not one. */
export const MAX_INVENTORY_BYTES = 1024 * 1024;

const nodepoolSchema = z.object({
  provider: z.string().max(256).nullish(),
  label: z.string().max(256).nullish(),
});

const inventorySchema = z.object({
  all: z.object({
    hosts: z.record(z.string(), z.object({ nodepool: nodepoolSchema.nullish() }).nullish()).nullish(),
  }),
});

interface InventoryFacts {
  node_provider?: string;
  build_node?: string;
}

/** The provider and label of the first host; a string is why the text is not a usable inventory. */
export function inventoryFacts(text: string): InventoryFacts | string {
  if (text.length > MAX_INVENTORY_BYTES) return `inventory is over ${MAX_INVENTORY_BYTES} bytes`;
  let value: unknown;
  try {
    value = Bun.YAML.parse(text);
  } catch (err) {
    return `inventory is not YAML (${(err as Error).message.split("\n")[0]})`;
  }
  const parsed = inventorySchema.safeParse(value);
  if (!parsed.success) return "inventory has no all.hosts mapping";
  const first = Object.values(parsed.data.all.hosts ?? {})[0];
  const facts: InventoryFacts = {};
  if (first?.nodepool?.provider) facts.node_provider = first.nodepool.provider;
  if (first?.nodepool?.label) facts.build_node = first.nodepool.label;
  return facts;
}
