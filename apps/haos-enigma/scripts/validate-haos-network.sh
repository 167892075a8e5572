#!/usr/bin/env bash
# Network checks for the HAOS VM (PRD 2.5): the underlay, the VM's LAN NIC, the WholeIP and what
# it exposes. Read-only; every expectation comes from the app's platform.yaml.
#
# Usage: scripts/validate-haos-network.sh [--app-dir DIR] [--verify] [--no-lan-probes] [--backup]
#   --app-dir DIR     the app folder holding platform.yaml (default: this script's parent)
#   --verify          first run `haos-tasks verify --app <app-dir>` (Flux applied, VM ready)
#   --no-lan-probes   skip the probes that need this machine on the LAN (HTTP, closed ports, ping)
#   --backup          also check the snapshot prerequisites (VolumeSnapshotClass, recent snapshot)
# Uses the current kubectl context (KUBECONFIG). Exit 0 = all checks passed, 1 = a check failed,
# 2 = bad usage. Warnings do not fail the run.
set -euo pipefail

app_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run_verify=false
lan_probes=true
backup=false
while (($# > 0)); do
  case "$1" in
    -h | --help)
      sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    --app-dir)
      app_dir="${2:?--app-dir needs a directory}"
      shift
      ;;
    --verify) run_verify=true ;;
    --no-lan-probes) lan_probes=false ;;
    --backup) backup=true ;;
    *)
      echo "unknown option: $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done

platform="${app_dir}/platform.yaml"
[[ -f "$platform" ]] || {
  echo "no platform declaration at ${platform} (use --app-dir)" >&2
  exit 2
}
# platform.yaml keys that occur once as `key: value` lines (the nodes are flow maps).
declared() { sed -n "s/^ *$1: *\"\{0,1\}\([^\" #]*\)\"\{0,1\}.*/\1/p" "$platform" | head -n 1; }
ns="$(declared tenantNamespace)"
whole_ip="$(declared expectedWholeIp)"
pn="$(declared providerNetwork)"
subnet="$(declared subnet)"
attachment="$(declared attachment)"
nic_mac="$(declared mac)"
nic_ip="$(declared ip)"
mapfile -t lan_nodes < <(sed -n 's/.*{ *name: *\([^,]*\),.*underlayInterface.*/\1/p' "$platform")
vm="vm-instance-haos"

failures=0
pass() { printf 'PASS  %s\n' "$*"; }
warn() { printf 'WARN  %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*"
  failures=$((failures + 1))
}
get() { kubectl get "$@" 2>/dev/null || true; }

if $run_verify; then
  if haos-tasks verify --app "$app_dir"; then pass "haos-tasks verify"; else fail "haos-tasks verify (see its report)"; fi
fi

# 1. Provider network: ready on exactly the LAN nodes.
ready_nodes="$(get provider-networks.kubeovn.io "$pn" -o jsonpath='{.status.readyNodes[*]}')"
for node in "${lan_nodes[@]}"; do
  if [[ " $ready_nodes " == *" $node "* ]]; then
    pass "provider network ${pn} ready on ${node}"
  else
    fail "provider network ${pn} not ready on ${node} (is eno1 un-ignored in Talos? kubectl get provider-networks.kubeovn.io ${pn} -o yaml)"
  fi
done
for node in $ready_nodes; do
  [[ " ${lan_nodes[*]} " == *" $node "* ]] || fail "provider network ${pn} is ready on ${node}, which is not a LAN node in ${platform}"
done

# 2. Subnet and attachment.
if [[ -n "$(get subnets.kubeovn.io "$subnet" -o name)" ]]; then
  pass "subnet ${subnet} exists"
else
  fail "subnet ${subnet} missing (Flux applied subnet-haos-underlay.yaml?)"
fi
if [[ -n "$(get network-attachment-definitions.k8s.cni.cncf.io -n "${attachment%%/*}" "${attachment##*/}" -o name)" ]]; then
  pass "NetworkAttachmentDefinition ${attachment} exists"
else
  fail "NetworkAttachmentDefinition ${attachment} missing"
fi

# 3. The VM's LAN NIC: pinned MAC, reserved IP, on a node that has the bridge.
vmi_mac="$(get virtualmachineinstances.kubevirt.io -n "$ns" "$vm" -o jsonpath='{.status.interfaces[?(@.name=="haos-underlay")].mac}')"
vmi_ips="$(get virtualmachineinstances.kubevirt.io -n "$ns" "$vm" -o jsonpath='{.status.interfaces[?(@.name=="haos-underlay")].ipAddresses[*]}')"
vmi_node="$(get virtualmachineinstances.kubevirt.io -n "$ns" "$vm" -o jsonpath='{.status.nodeName}')"
if [[ -z "$vmi_node" ]]; then
  fail "VMI ${ns}/${vm} not running (kubectl -n ${ns} get vm,vmi ${vm})"
else
  if [[ "$vmi_mac" == "$nic_mac" ]]; then
    pass "LAN NIC MAC ${vmi_mac}"
  else
    fail "LAN NIC MAC is '${vmi_mac}', platform.yaml pins ${nic_mac} (is ClusterPolicy haos-lan-nic Ready? restart the VM if it reports RestartRequired)"
  fi
  if [[ " $vmi_ips " == *" $nic_ip "* ]]; then
    pass "LAN NIC address ${nic_ip} (guest agent)"
  elif [[ -z "$vmi_ips" ]]; then
    warn "LAN NIC reports no address yet (guest agent not up, or no DHCP lease)"
  else
    fail "LAN NIC has ${vmi_ips}, expected ${nic_ip}: add the DHCP reservation ${nic_mac} -> ${nic_ip} on the router"
  fi
  if [[ "$(get node "$vmi_node" -o jsonpath="{.metadata.labels.${pn}\.provider-network\.kubernetes\.io/ready}")" == "true" ]]; then
    pass "VM runs on ${vmi_node}, which has the ${pn} bridge"
  else
    fail "VM runs on ${vmi_node}, which has no ready ${pn} provider network"
  fi
fi
migratable="$(get virtualmachines.kubevirt.io -n "$ns" "$vm" -o jsonpath='{.status.conditions[?(@.type=="LiveMigratable")].status}')"
case "$migratable" in
  True) pass "VM is live-migratable" ;;
  "") warn "VM reports no LiveMigratable condition yet" ;;
  *) warn "VM is not live-migratable: $(get virtualmachines.kubevirt.io -n "$ns" "$vm" -o jsonpath='{.status.conditions[?(@.type=="LiveMigratable")].message}')" ;;
esac

# 4. The WholeIP: the pool hands it out, it cannot be pinned.
lb_ip="$(get service -n "$ns" "$vm" -o jsonpath='{.status.loadBalancer.ingress[0].ip}')"
if [[ "$lb_ip" == "$whole_ip" ]]; then
  pass "WholeIP ${lb_ip}"
elif [[ -z "$lb_ip" ]]; then
  fail "Service ${ns}/${vm} has no load-balancer IP yet"
else
  fail "WholeIP is ${lb_ip}, platform.yaml expects ${whole_ip} (the pool decided; update expectedWholeIp or free ${whole_ip})"
fi

# 5. From this machine on the LAN: the UI answers, everything else on the WholeIP is closed.
if $lan_probes && [[ -n "$lb_ip" ]]; then
  if curl -fsS -o /dev/null --max-time 10 "http://${lb_ip}:8123/manifest.json"; then
    pass "Home Assistant answers on http://${lb_ip}:8123"
  else
    fail "no answer from http://${lb_ip}:8123"
  fi
  for port in 22 4357 22222; do
    if timeout 5 bash -c "exec 3<>/dev/tcp/${lb_ip}/${port}" 2>/dev/null; then
      fail "port ${port} is open on the WholeIP ${lb_ip}: NetworkPolicy haos-wholeip-ingress is not effective (security review)"
    else
      pass "port ${port} closed on the WholeIP"
    fi
  done
  if ping -c 2 -W 2 "$nic_ip" >/dev/null 2>&1; then
    pass "LAN NIC ${nic_ip} answers ping"
  else
    fail "LAN NIC ${nic_ip} does not answer ping from this machine"
  fi
  if command -v avahi-browse >/dev/null 2>&1; then
    if avahi-browse -rtp _home-assistant._tcp 2>/dev/null | grep -q "$nic_ip"; then
      pass "mDNS: _home-assistant._tcp announced from ${nic_ip}"
    else
      fail "mDNS: no _home-assistant._tcp announcement from ${nic_ip} (multicast not bridged?)"
    fi
  else
    warn "avahi-browse not installed: mDNS not checked"
  fi
fi

# 6. Backup prerequisites.
if $backup; then
  if [[ -n "$(get volumesnapshotclasses.snapshot.storage.k8s.io -o name)" ]]; then
    pass "a VolumeSnapshotClass exists"
  else
    fail "no VolumeSnapshotClass: VirtualMachineSnapshots of the replicated volume cannot be taken"
  fi
  newest="$(get virtualmachinesnapshots.snapshot.kubevirt.io -n "$ns" -l app.kubernetes.io/managed-by=haos-snapshot -o jsonpath='{range .items[?(@.status.readyToUse==true)]}{.metadata.name}{"\n"}{end}' | sort | tail -n 1)"
  if [[ -n "$newest" ]]; then pass "newest ready snapshot: ${newest}"; else fail "no ready VM snapshot in ${ns}"; fi
fi

if ((failures > 0)); then
  echo "${failures} check(s) failed"
  exit 1
fi
echo "all checks passed"
