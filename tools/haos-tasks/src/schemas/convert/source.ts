import { HintedError } from "../../errors.ts";
import type { LockedSource } from "../sources.ts";
import type { SchemaOrigin } from "../strict.ts";
import { type CozystackAppKind, convertCozystackValues } from "./cozystack.ts";
import { convertCrdYaml } from "./crd.ts";
import { convertOpenApiV2 } from "./openapi-v2.ts";
import type { ConvertedSchema } from "./types.ts";

export interface OriginSchema extends ConvertedSchema {
  origin: SchemaOrigin;
  /** The lock URL it came from. */
  source: string;
}

/** CozyStack chart directory → application kind. */
const cozystackCharts: Record<string, CozystackAppKind> = {
  "vm-disk": "VMDisk",
  "vm-instance": "VMInstance",
};

export class ConvertError extends HintedError {}

/** The app kind a CozyStack `packages/apps/<chart>/values.schema.json` URL describes. */
export function cozystackKindOf(url: string): CozystackAppKind {
  const chart = /\/packages\/apps\/([^/]+)\/values\.schema\.json$/.exec(url)?.[1];
  const kind = chart ? cozystackCharts[chart] : undefined;
  if (!kind) {
    throw new ConvertError(
      `${url}: not a known CozyStack app chart (known: ${Object.keys(cozystackCharts).join(", ")})`,
      "add the chart → kind mapping in src/schemas/convert/source.ts",
    );
  }
  return kind;
}

/** Converts one verified source by its lock `kind`. */
export function convertSource(source: LockedSource, bytes: Buffer): OriginSchema[] {
  const text = bytes.toString("utf8");
  const tag =
    (origin: SchemaOrigin) =>
    (s: ConvertedSchema): OriginSchema => ({ ...s, origin, source: source.url });
  try {
    switch (source.kind) {
      case "crd":
        return convertCrdYaml(text).map(tag("crd"));
      case "openapi-v2":
        return convertOpenApiV2(JSON.parse(text)).map(tag("openapi-v2"));
      case "cozystack-values-schema":
        return [tag("cozystack")(convertCozystackValues(JSON.parse(text), cozystackKindOf(source.url)))];
      case "reference":
        return [];
    }
  } catch (error) {
    if (error instanceof ConvertError) throw error;
    throw new ConvertError(
      `${source.url}: cannot convert as ${source.kind}: ${error instanceof Error ? error.message : String(error)}`,
      "check the source's `kind` in schemas.lock.json",
    );
  }
}
