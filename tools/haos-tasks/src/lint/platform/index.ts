import type { Finding } from "../../findings.ts";
import { arcRules } from "./arc.ts";
import { cozystackRules } from "./cozystack.ts";
import { credentialRules } from "./credentials.ts";
import { deprecationRules } from "./deprecations.ts";
import { healthCheckRules, pruneProtectionRules } from "./flux.ts";
import { kubeOvnRules } from "./kube-ovn.ts";
import { kyvernoRules } from "./kyverno.ts";
import type { RuleContext } from "./subject.ts";
import { efiRules, pinnedUrlRules } from "./vm-boot.ts";

/** Every platform rule family over the rendered objects. */
export function platformRules(context: RuleContext): Finding[] {
  return [
    ...cozystackRules(context),
    ...efiRules(context),
    ...pinnedUrlRules(context),
    ...kubeOvnRules(context),
    ...healthCheckRules(context),
    ...pruneProtectionRules(context),
    ...deprecationRules(context),
    ...credentialRules(context),
    ...arcRules(context),
    ...kyvernoRules(context),
  ];
}
