import type { Finding } from "../../findings.ts";
import { field } from "../../manifests/resources.ts";
import { finding } from "../rules.ts";
import { at, isKind, type RuleContext } from "./subject.ts";

/** Deprecated or removed apiVersion → the one to use (all kinds of the group version). */
const replacedApiVersions: Record<string, string> = {
  "kustomize.toolkit.fluxcd.io/v1beta1": "kustomize.toolkit.fluxcd.io/v1",
  "kustomize.toolkit.fluxcd.io/v1beta2": "kustomize.toolkit.fluxcd.io/v1",
  "source.toolkit.fluxcd.io/v1beta1": "source.toolkit.fluxcd.io/v1",
  "source.toolkit.fluxcd.io/v1beta2": "source.toolkit.fluxcd.io/v1",
  "helm.toolkit.fluxcd.io/v2beta1": "helm.toolkit.fluxcd.io/v2",
  "helm.toolkit.fluxcd.io/v2beta2": "helm.toolkit.fluxcd.io/v2",
  "notification.toolkit.fluxcd.io/v1beta1": "notification.toolkit.fluxcd.io/v1beta3",
  "notification.toolkit.fluxcd.io/v1beta2": "notification.toolkit.fluxcd.io/v1beta3",
  "image.toolkit.fluxcd.io/v1beta1": "image.toolkit.fluxcd.io/v1",
  "image.toolkit.fluxcd.io/v1beta2": "image.toolkit.fluxcd.io/v1",
  "instancetype.kubevirt.io/v1alpha1": "instancetype.kubevirt.io/v1beta1",
  "instancetype.kubevirt.io/v1alpha2": "instancetype.kubevirt.io/v1beta1",
  "kubevirt.io/v1alpha3": "kubevirt.io/v1",
  "cdi.kubevirt.io/v1alpha1": "cdi.kubevirt.io/v1beta1",
  "extensions/v1beta1": "apps/v1 or networking.k8s.io/v1",
  "apps/v1beta1": "apps/v1",
  "apps/v1beta2": "apps/v1",
  "batch/v1beta1": "batch/v1",
  "policy/v1beta1": "policy/v1",
  "autoscaling/v2beta1": "autoscaling/v2",
  "autoscaling/v2beta2": "autoscaling/v2",
  "networking.k8s.io/v1beta1": "networking.k8s.io/v1",
  "rbac.authorization.k8s.io/v1beta1": "rbac.authorization.k8s.io/v1",
  "apiextensions.k8s.io/v1beta1": "apiextensions.k8s.io/v1",
  "admissionregistration.k8s.io/v1beta1": "admissionregistration.k8s.io/v1",
  "storage.k8s.io/v1beta1": "storage.k8s.io/v1",
  "flowcontrol.apiserver.k8s.io/v1beta3": "flowcontrol.apiserver.k8s.io/v1",
};

interface DeprecatedField {
  group: string;
  kinds: string[];
  pointer: string;
  message: string;
  hint: string;
}

const deprecatedFields: DeprecatedField[] = [
  {
    group: "kyverno.io",
    kinds: ["ClusterPolicy", "Policy"],
    pointer: "/spec/validationFailureAction",
    message: "spec.validationFailureAction is deprecated since Kyverno 1.13",
    hint: "set validate.failureAction on each rule instead",
  },
  {
    group: "kyverno.io",
    kinds: ["ClusterPolicy", "Policy"],
    pointer: "/spec/validationFailureActionOverrides",
    message: "spec.validationFailureActionOverrides is deprecated since Kyverno 1.13",
    hint: "set validate.failureActionOverrides on each rule instead",
  },
  {
    group: "instancetype.kubevirt.io",
    kinds: ["VirtualMachineClusterPreference", "VirtualMachinePreference"],
    pointer: "/spec/firmware/preferredUseEfi",
    message: "spec.firmware.preferredUseEfi is deprecated in instancetype.kubevirt.io/v1beta1",
    hint: "use spec.firmware.preferredEfi: {secureBoot: false}",
  },
  {
    group: "instancetype.kubevirt.io",
    kinds: ["VirtualMachineClusterPreference", "VirtualMachinePreference"],
    pointer: "/spec/firmware/preferredUseSecureBoot",
    message: "spec.firmware.preferredUseSecureBoot is deprecated in instancetype.kubevirt.io/v1beta1",
    hint: "use spec.firmware.preferredEfi.secureBoot",
  },
  {
    group: "helm.toolkit.fluxcd.io",
    kinds: ["HelmRelease"],
    pointer: "/spec/chart/spec/valuesFile",
    message: "spec.chart.spec.valuesFile is deprecated",
    hint: "use spec.chart.spec.valuesFiles (a list)",
  },
];

const exists = (object: unknown, pointer: string) =>
  field(object, ...pointer.split("/").filter(Boolean)) !== undefined;

/** Deprecated apiVersions and deprecated fields, each with the replacement. */
export function deprecationRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const subject of context.subjects) {
    const replacement = replacedApiVersions[subject.apiVersion];
    if (replacement) {
      findings.push(
        finding(
          "deprecated/api-version",
          at(subject, "/apiVersion"),
          `${subject.kind} ${subject.apiVersion} is deprecated or removed`,
          `use apiVersion ${replacement}`,
        ),
      );
    }
    for (const d of deprecatedFields) {
      if (isKind(subject, d.group, ...d.kinds) && exists(subject.object, d.pointer)) {
        findings.push(finding("deprecated/field", at(subject, d.pointer), d.message, d.hint));
      }
    }
  }
  return findings;
}
