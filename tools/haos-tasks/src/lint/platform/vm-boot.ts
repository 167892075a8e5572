import type { Finding } from "../../findings.ts";
import { field } from "../../manifests/resources.ts";
import { toPointer } from "../../manifests/yaml-source.ts";
import { finding } from "../rules.ts";
import { at, type RuleContext, type Subject, subjectsOf } from "./subject.ts";

const haos = /haos|home-?assistant/i;

/** Preferences that boot Home Assistant OS: named so, or used by a VMInstance whose disk downloads HAOS. */
function haosPreferences(context: RuleContext): Subject[] {
  const haosDisks = new Set(
    subjectsOf(context, "apps.cozystack.io", "VMDisk")
      .filter((d) => haos.test(String(field(d.object, "spec", "source", "http", "url") ?? "")))
      .map((d) => d.name),
  );
  const used = new Set<string>();
  for (const vm of subjectsOf(context, "apps.cozystack.io", "VMInstance")) {
    const disks = field(vm.object, "spec", "disks");
    const bootsHaos = Array.isArray(disks) && disks.some((d) => haosDisks.has(String(field(d, "name"))));
    const profile = field(vm.object, "spec", "instanceProfile");
    if (bootsHaos && typeof profile === "string") used.add(profile);
  }
  return subjectsOf(
    context,
    "instancetype.kubevirt.io",
    "VirtualMachineClusterPreference",
    "VirtualMachinePreference",
  ).filter((p) => haos.test(p.name) || used.has(p.name));
}

/**
 * HAOS images boot only with UEFI and are not signed for Secure Boot: the preference must prefer
 * EFI (`preferredEfi`, or the deprecated `preferredUseEfi: true`) with secure boot off. KubeVirt
 * turns secure boot ON when `preferredEfi.secureBoot` is unset, so it must be written as false.
 */
export function efiRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const preference of haosPreferences(context)) {
    const firmware = field(preference.object, "spec", "firmware");
    const efi = field(firmware, "preferredEfi");
    const legacyEfi = field(firmware, "preferredUseEfi") === true;
    const hasEfi = (efi !== undefined && efi !== null && typeof efi === "object") || legacyEfi;
    if (!hasEfi) {
      findings.push(
        finding(
          "kubevirt/efi",
          at(preference, firmware ? "/spec/firmware" : "/spec"),
          `preference '${preference.name}' does not prefer EFI; Home Assistant OS boots only with UEFI`,
          "set spec.firmware.preferredEfi: {secureBoot: false}",
        ),
      );
      continue;
    }
    const secureBootOn =
      efi && typeof efi === "object"
        ? field(efi, "secureBoot") !== false
        : field(firmware, "preferredUseSecureBoot") === true;
    if (secureBootOn) {
      const pointer =
        efi && typeof efi === "object"
          ? "/spec/firmware/preferredEfi"
          : "/spec/firmware/preferredUseSecureBoot";
      findings.push(
        finding(
          "kubevirt/efi",
          at(preference, pointer),
          `preference '${preference.name}' leaves secure boot on (KubeVirt's default for EFI); Home Assistant OS is not signed for it`,
          efi && typeof efi === "object"
            ? "set spec.firmware.preferredEfi.secureBoot: false"
            : "set spec.firmware.preferredUseSecureBoot: false",
        ),
      );
    }
  }
  return findings;
}

const versioned = /(^|[/_\-.=v])v?\d+\.\d+(\.\d+)?/;

/** Download URLs of a subject with their JSON pointers. */
function downloadUrls(subject: Subject): { url: string; pointer: string }[] {
  const found: { url: string; pointer: string }[] = [];
  const add = (segments: (string | number)[]) => {
    const value = field(subject.object, ...segments.map(String));
    if (typeof value === "string") found.push({ url: value, pointer: toPointer(segments) });
  };
  if (subject.kind === "VMDisk") add(["spec", "source", "http", "url"]);
  if (subject.kind === "DataVolume") add(["spec", "source", "http", "url"]);
  if (subject.kind === "VirtualMachine") {
    const templates = field(subject.object, "spec", "dataVolumeTemplates");
    if (Array.isArray(templates)) {
      for (let i = 0; i < templates.length; i++)
        add(["spec", "dataVolumeTemplates", i, "spec", "source", "http", "url"]);
    }
  }
  return found;
}

/** Disk images are downloaded once and kept: the URL must name an exact version. */
export function pinnedUrlRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const subject of context.subjects) {
    // A DataVolume a VMDisk renders carries the VMDisk's URL, which is checked at the VMDisk.
    if (subject.renderedBy) continue;
    for (const { url, pointer } of downloadUrls(subject)) {
      let pathPart = url;
      try {
        pathPart = decodeURIComponent(new URL(url).pathname);
      } catch {
        // Not an absolute URL: check the text as written.
      }
      const latest = /(^|[/_\-.])latest([/_\-.]|$)/i.test(pathPart);
      if (latest || !versioned.test(pathPart)) {
        findings.push(
          finding(
            "platform/pinned-url",
            at(subject, pointer),
            latest ? `download URL follows 'latest': ${url}` : `download URL names no version: ${url}`,
            "use the release URL of an exact version (e.g. …/releases/download/16.3/haos_ova-16.3.qcow2.xz)",
          ),
        );
      }
    }
  }
  return findings;
}
