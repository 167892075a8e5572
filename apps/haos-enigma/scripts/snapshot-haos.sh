#!/usr/bin/env bash
# Takes one KubeVirt VirtualMachineSnapshot of the HAOS VM, waits until it is ready to use, then
# deletes all but the newest $KEEP snapshots this script made. Runs in CronJob haos-snapshot
# (mounted from ConfigMap haos-snapshot-script) and by hand: KUBECONFIG=... scripts/snapshot-haos.sh
# Nothing is pruned unless the new snapshot is ready, so a failing run never loses a good one.
set -euo pipefail

NAMESPACE="${NAMESPACE:-tenant-root}"
VM="${VM:-vm-instance-haos}"
KEEP="${KEEP:-7}"
TIMEOUT="${TIMEOUT:-15m}"
SELECTOR="app.kubernetes.io/managed-by=haos-snapshot,haos-enigma.dev/vm=${VM}"

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  echo "Environment: NAMESPACE (${NAMESPACE}) VM (${VM}) KEEP (${KEEP}) TIMEOUT (${TIMEOUT})"
  exit 0
fi
if ! [[ "$KEEP" =~ ^[1-9][0-9]*$ ]]; then
  echo "KEEP must be a positive integer, got '${KEEP}'" >&2
  exit 2
fi

# Names sort by time, so pruning does not depend on creationTimestamp's one-second resolution.
name="haos-$(date -u +%Y%m%dt%H%M%Sz)"
kubectl create -f - <<MANIFEST
apiVersion: snapshot.kubevirt.io/v1beta1
kind: VirtualMachineSnapshot
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
  labels:
    app.kubernetes.io/managed-by: haos-snapshot
    haos-enigma.dev/vm: ${VM}
spec:
  source:
    apiGroup: kubevirt.io
    kind: VirtualMachine
    name: ${VM}
  failureDeadline: 10m
MANIFEST

if ! kubectl wait -n "$NAMESPACE" "virtualmachinesnapshot/${name}" \
  --for=jsonpath='{.status.readyToUse}'=true --timeout="$TIMEOUT"; then
  echo "snapshot ${NAMESPACE}/${name} not ready after ${TIMEOUT}; nothing pruned" >&2
  kubectl get -n "$NAMESPACE" "virtualmachinesnapshot/${name}" -o jsonpath='{.status}' >&2 || true
  exit 1
fi
echo "snapshot ${NAMESPACE}/${name} ready"

mapfile -t all < <(kubectl get virtualmachinesnapshots -n "$NAMESPACE" -l "$SELECTOR" \
  -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort)
excess=$((${#all[@]} - KEEP))
if ((excess > 0)); then
  old=("${all[@]:0:excess}")
  kubectl delete -n "$NAMESPACE" --wait=false "${old[@]/#/virtualmachinesnapshot/}"
fi
echo "kept $((${#all[@]} < KEEP ? ${#all[@]} : KEEP)) of ${#all[@]} snapshot(s)"
