import type { KubeObject } from "../../kube/client.ts";
import { lookup } from "../../kube/store.ts";
import { combine, field, type PhaseDefinition, text, type Verdict } from "./types.ts";

export const wholeIpAnnotation = "networking.cozystack.io/wholeIP";

/** The Service's LoadBalancer ingress IPs. */
export function loadBalancerIps(service: KubeObject | undefined): string[] {
  const ingress = field(service, "status", "loadBalancer", "ingress");
  if (!Array.isArray(ingress)) return [];
  return ingress.map((i: { ip?: unknown }) => i?.ip).filter((ip): ip is string => typeof ip === "string");
}

/** address: the Service has the WholeIP annotation and the LoadBalancer IP platform.yaml expects. */
export function evaluateAddress(service: KubeObject | undefined, label: string, expectedIp: string): Verdict {
  if (!service) return { state: "waiting", detail: `Service ${label} not created yet` };
  const objects = [
    { kind: "service" as const, namespace: service.metadata.namespace ?? "", name: service.metadata.name },
  ];
  if (service.metadata.annotations?.[wholeIpAnnotation] !== "true") {
    return {
      state: "failed",
      detail: `Service ${label} lacks the annotation ${wholeIpAnnotation}: "true"`,
      hint: "set external: true and externalMethod: WholeIP on the VMInstance",
      objects,
    };
  }
  const type = text(service, "spec", "type");
  if (type !== "LoadBalancer") {
    return {
      state: "failed",
      detail: `Service ${label} is type ${type ?? "(none)"}, not LoadBalancer`,
      hint: "set external: true on the VMInstance",
      objects,
    };
  }
  const ips = loadBalancerIps(service);
  if (ips.length === 0)
    return {
      state: "waiting",
      detail: `Service ${label} has no LoadBalancer IP yet (expecting ${expectedIp})`,
    };
  if (ips.includes(expectedIp))
    return { state: "done", detail: `Service ${label} has WholeIP ${expectedIp}`, data: { ip: expectedIp } };
  return {
    state: "failed",
    detail: `Service ${label} got LoadBalancer IP ${ips.join(", ")}, expected ${expectedIp}`,
    hint: "the pool handed out another address: free the expected IP in the external pool, or update network.expectedWholeIp in platform.yaml",
    objects,
    data: { ips },
  };
}

export const addressPhase: PhaseDefinition = {
  name: "address",
  reads: ["service"],
  evaluate({ snapshot, targets }) {
    const external = targets.instances.filter((i) => i.wholeIp);
    if (external.length === 0)
      return { state: "skipped", detail: "no VMInstance uses externalMethod: WholeIP" };
    const parts = external.map((i) => {
      const label = `${i.app.namespace}/${i.rendered}`;
      return {
        label,
        verdict: evaluateAddress(
          lookup(snapshot, "service", i.app.namespace, i.rendered),
          label,
          targets.expectedWholeIp,
        ),
      };
    });
    return combine(parts, (details) => details);
  },
};
