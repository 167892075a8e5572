import type { Finding } from "../../findings.ts";
import { field } from "../../manifests/resources.ts";
import { finding } from "../rules.ts";
import { covered, formatIPv4, parseCidr, parseIPv4, parseIpRange, type Range } from "./ipv4.ts";
import { at, type RuleContext, subjectsOf } from "./subject.ts";

const overlaps = (a: Range, b: Range) => a.first <= b.last && b.first <= a.last;

/**
 * Kube-OVN Subnets: the gateway lies inside the CIDR, and on the LAN of the platform declaration
 * `excludeIps` keep Kube-OVN from handing out node IPs, the VIP, the gateway and the WholeIP pool.
 */
export function kubeOvnRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const subnet of subjectsOf(context, "kubeovn.io", "Subnet")) {
    const cidrText = String(field(subnet.object, "spec", "cidrBlock") ?? "");
    const cidr = cidrText
      .split(",")
      .map(parseCidr)
      .find((r) => r !== undefined);
    if (!cidr) continue;
    const gatewayText = field(subnet.object, "spec", "gateway");
    const gateway = typeof gatewayText === "string" ? parseIPv4(gatewayText.split(",")[0] ?? "") : undefined;
    if (gateway !== undefined && (gateway < cidr.first || gateway > cidr.last)) {
      findings.push(
        finding(
          "kube-ovn/gateway",
          at(subnet, "/spec/gateway"),
          `gateway ${String(gatewayText)} is outside cidrBlock ${cidrText}`,
          "use the router's address inside the subnet (or fix cidrBlock)",
        ),
      );
    }
    const platform = context.platformOf(subnet);
    const lan = platform ? parseCidr(platform.network.lan.cidr) : undefined;
    if (!platform || !lan || !overlaps(lan, cidr)) continue;
    const raw = field(subnet.object, "spec", "excludeIps");
    const excluded = (Array.isArray(raw) ? raw : [])
      .map((e) => parseIpRange(String(e)))
      .filter((r): r is Range => r !== undefined);
    const required: { what: string; text: string; range: Range | undefined }[] = [
      ...platform.network.lan.nodes.map((n) => ({
        what: `node ${n.name}`,
        text: n.ip,
        range: parseIpRange(n.ip),
      })),
      { what: "VIP", text: platform.network.lan.vip, range: parseIpRange(platform.network.lan.vip) },
      {
        what: "gateway",
        text: platform.network.lan.gateway,
        range: parseIpRange(platform.network.lan.gateway),
      },
      {
        what: "WholeIP pool",
        text: platform.network.lan.externalPool,
        range: parseIpRange(platform.network.lan.externalPool),
      },
    ];
    const missing = required.filter((r) => r.range && overlaps(r.range, cidr) && !covered(r.range, excluded));
    if (missing.length > 0) {
      const entries = missing.map((m) =>
        m.range && m.range.first !== m.range.last
          ? `${formatIPv4(m.range.first)}..${formatIPv4(m.range.last)}`
          : m.text,
      );
      findings.push(
        finding(
          "kube-ovn/exclude-ips",
          at(subnet, Array.isArray(raw) ? "/spec/excludeIps" : "/spec"),
          `excludeIps do not cover ${missing.map((m) => `${m.what} (${m.text})`).join(", ")} from ${platform.file}; Kube-OVN could assign them to pods`,
          `add to spec.excludeIps: ${entries.map((e) => JSON.stringify(e)).join(", ")}`,
        ),
      );
    }
  }
  return findings;
}
