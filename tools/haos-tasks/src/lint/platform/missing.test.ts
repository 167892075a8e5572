import { describe, expect, it } from "vitest";
import { resourcesOf } from "../../manifests/resources.ts";
import { parseSourceFile } from "../../manifests/yaml-source.ts";
import type { Platform } from "../../platform/platform.ts";
import { standaloneSubject } from "../../validate/subjects.ts";
import { ruleCatalog } from "../rules.ts";
import { missingPlatformRules } from "./missing.ts";
import type { Subject } from "./subject.ts";

const subjectsOf = (file: string, text: string): Subject[] =>
  resourcesOf(parseSourceFile(text, file)).map(standaloneSubject);

const vmDisk = (name: string) =>
  `apiVersion: apps.cozystack.io/v1alpha1\nkind: VMDisk\nmetadata:\n  name: ${name}\n  namespace: demo\n`;
const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: demo\n";

describe("platform/missing", () => {
  it("notes an app of platform kinds without platform.yaml once per folder, naming the catalog's platform rules", () => {
    const subjects = [
      ...subjectsOf("apps/demo/disks.yaml", `${vmDisk("a")}---\n${vmDisk("b")}`),
      ...subjectsOf("apps/demo/more.yaml", vmDisk("c")),
      ...subjectsOf("apps/other/cm.yaml", configMap),
    ];
    const findings = missingPlatformRules({ subjects, platformOf: () => undefined });
    expect(findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.severity}`)).toEqual([
      "apps/demo/disks.yaml:2 platform/missing info",
    ]);
    // The ids come from the catalog: every platform rule is named (a family whole as `family/*`).
    const platformIds = ruleCatalog.filter((r) => r.platform).map((r) => r.id);
    expect(platformIds).toContain("kubevirt/efi");
    for (const id of platformIds) {
      const family = id.slice(0, id.indexOf("/"));
      expect(findings[0]?.message.includes(id) || findings[0]?.message.includes(`${family}/*`), id).toBe(
        true,
      );
    }
    expect(findings[0]?.message).toContain(
      "(cozystack/*, kubevirt/efi, platform/pinned-url, kube-ovn/*, flux/prune-protection)",
    );
  });

  it("is silent where a platform.yaml applies, and looks only at the objects in scope", () => {
    const subjects = subjectsOf("apps/demo/disks.yaml", vmDisk("a"));
    const declared = { file: "apps/demo/platform.yaml" } as Platform;
    expect(missingPlatformRules({ subjects, platformOf: () => declared })).toEqual([]);
    expect(missingPlatformRules({ subjects, platformOf: () => undefined }, [])).toEqual([]);
  });
});
