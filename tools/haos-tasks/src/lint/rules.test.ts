import { describe, expect, it } from "vitest";
import { platformRuleIds, ruleCatalog, ruleInfo } from "./rules.ts";

describe("the rule catalog", () => {
  it("registers every rule once, the self-contained platform rules (arc, credentials) as rows too", () => {
    const ids = ruleCatalog.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ruleInfo("arc/runner-service-account")?.severity).toBe("error");
    expect(ruleInfo("secrets/plaintext-credential")?.severity).toBe("error");
  });

  it("knows the platform rules, and names a family whose rules all are platform rules as family/*", () => {
    expect(platformRuleIds()).toEqual([
      "cozystack/*",
      "kubevirt/efi",
      "platform/pinned-url",
      "kube-ovn/*",
      "flux/prune-protection",
    ]);
    // platform/declaration and platform/missing are about platform.yaml, not rules it switches on.
    expect(ruleInfo("platform/missing")?.platform).toBeUndefined();
    expect(ruleInfo("flux/health-check-exprs")?.platform).toBeUndefined();
  });
});
