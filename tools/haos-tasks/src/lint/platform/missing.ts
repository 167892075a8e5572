import path from "node:path";
import type { Finding } from "../../findings.ts";
import { apiGroup } from "../../manifests/resources.ts";
import { finding, platformRuleIds } from "../rules.ts";
import { at, type RuleContext, type Subject } from "./subject.ts";

/** The API groups whose objects the platform rules check: an app of them wants a platform.yaml. */
const platformGroups = [
  "apps.cozystack.io",
  "kubevirt.io",
  "instancetype.kubevirt.io",
  "kubeovn.io",
  "cdi.kubevirt.io",
];

/**
 * platform/missing: an app of platform kinds without a platform.yaml silently lost its platform
 * rules (the catalog's platform rules). Once per folder (the build, else the file's folder), at
 * the first such object of `subjects` (the objects in scope; default: every object).
 */
export function missingPlatformRules(
  context: Pick<RuleContext, "subjects" | "platformOf">,
  subjects: readonly Subject[] = context.subjects,
): Finding[] {
  const findings: Finding[] = [];
  const noted = new Set<string>();
  for (const s of subjects) {
    if (!platformGroups.includes(apiGroup(s.apiVersion)) || context.platformOf(s)) continue;
    const dir = s.build ?? path.posix.dirname(s.file);
    if (noted.has(dir)) continue;
    noted.add(dir);
    findings.push(
      finding(
        "platform/missing",
        at(s, "/kind"),
        `no platform.yaml at or above ${dir}: the platform rules are off for its ${s.kind} and the other platform objects there (${platformRuleIds().join(", ")})`,
        "add a platform.yaml to the app folder (see apps/haos-enigma/platform.yaml) to check CozyStack, KubeVirt and Kube-OVN rules",
      ),
    );
  }
  return findings;
}
