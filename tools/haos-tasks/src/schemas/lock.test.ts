import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sourceFetch } from "../../test/support/upstream-schemas.ts";
import { isCrd } from "./convert/crd.ts";
import { convertSource } from "./convert/source.ts";
import { isRecord } from "./convert/types.ts";
import { fetchSource, readSchemaLock, resolveMirror } from "./sources.ts";

const mirror = resolveMirror(undefined, process.env);

describe.runIf(mirror)(
  `schemas.lock.json${mirror ? "" : " (skipped: HAOS_TASKS_SCHEMA_MIRROR is not set)"}`,
  async () => {
    const lock = await readSchemaLock();

    it("pins every file of the upstream MANIFEST.json with the same sha256 and size", async () => {
      const manifest = JSON.parse(await readFile(path.join(String(mirror), "MANIFEST.json"), "utf8")) as {
        files: { url: string; sha256: string; bytes: number }[];
      };
      const pinned = new Map(lock.sources.map((s) => [s.url, s]));
      for (const file of manifest.files) {
        expect(pinned.get(file.url), file.url).toMatchObject({ sha256: file.sha256, bytes: file.bytes });
      }
      expect(new Set(lock.sources.map((s) => s.url)).size).toBe(lock.sources.length);
    });

    it.each(lock.sources.map((s) => [s.url.split("/").slice(3).join("/"), s] as const))(
      "%s: its kind matches its content",
      async (_name, source) => {
        const bytes = await fetchSource(source, sourceFetch(String(mirror)));
        const converted = convertSource(source, bytes);
        if (source.kind === "reference") {
          expect(converted).toEqual([]);
          // A reference that holds a CRD would leave kinds out of the catalog.
          const docs = (await import("yaml")).parseAllDocuments(bytes.toString("utf8"));
          // Helm templates (.tpl) are not YAML: a document that does not parse holds no CRD.
          const js = (d: { toJS: () => unknown }) => {
            try {
              return d.toJS();
            } catch {
              return undefined;
            }
          };
          const crds = Array.isArray(docs) ? docs.filter((d) => isCrd(js(d))) : [];
          expect(crds).toEqual([]);
        } else {
          expect(converted.length, "a converted source yields at least one kind").toBeGreaterThan(0);
          for (const s of converted) expect(isRecord(s.schema)).toBe(true);
        }
      },
    );
  },
);
