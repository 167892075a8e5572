#!/usr/bin/env bash
# Installs the project's pinned external tools into .tools/bin (gitignored). Idempotent: a tool
# whose stamp matches its pinned version is skipped, so a warm run takes well under a second.
#
#   bash tools/bootstrap/bootstrap.sh [GROUP|TOOL ...]
#   groups: validate (kubeconform kustomize-build flux-render), flux (the three Flux controllers),
#           test (kubeconform kustomize-build flux-render etcd kube-apiserver registry helm kyverno + flux), all (everything)
#   tools:  kubeconform kustomize-build flux-render actionlint etcd kube-apiserver registry helm kyverno zizmor pre-commit source-controller kustomize-controller helm-controller
#
# Go builds reuse Go's module cache and build cache (GOMODCACHE/GOCACHE, ~/.cache by default),
# so a rebuild after a version bump only compiles what changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tools/bootstrap"
bin="$root/.tools/bin"
stamps="$root/.tools/stamps"
# shellcheck source=versions.env
source "$here/versions.env"
mkdir -p "$bin" "$stamps"

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

require_go() {
  command -v go >/dev/null 2>&1 || die "Go is not installed; the tools are built from source with it.
  fix: install Go 1.24 or newer (https://go.dev/dl/; on Debian/Ubuntu: apt-get install golang-go if it is >= 1.24),
       make sure \`go version\` works, then re-run: npm run bootstrap"
  local v
  v="$(go env GOVERSION | sed 's/^go//')"
  case "$v" in
    1.2[4-9]*|1.[3-9][0-9]*) ;;
    *) die "Go $v is too old; the tools need Go >= 1.24. fix: install a newer Go, then re-run: npm run bootstrap" ;;
  esac
}

# fresh NAME VERSION: true when .tools/bin/NAME exists and was built for VERSION.
fresh() { [ -x "$bin/$1" ] && [ -f "$stamps/$1" ] && [ "$(cat "$stamps/$1")" = "$2" ]; }
stamp() { printf '%s' "$2" >"$stamps/$1"; }

timed() {
  local name="$1"; shift
  local start=$SECONDS
  "$@"
  log "$name ready in $((SECONDS - start))s"
}

go_install() { # NAME MODULE/PATH VERSION
  local name="$1" pkg="$2" version="$3"
  fresh "$name" "$version" && return 0
  require_go
  log "building $name $version (go install $pkg@$version)"
  timed "$name" env GOBIN="$bin" GOFLAGS=-trimpath go install "$pkg@$version"
  stamp "$name" "$version"
}

# go_wrapper NAME PACKAGE VERSION: builds PACKAGE inside tools/bootstrap/go/NAME, a tiny module whose
# go.mod pins VERSION (with `replace` lines where upstream's own go.mod uses local paths).
go_wrapper() {
  local name="$1" pkg="$2" version="$3" ldflags="${4:-}" dir="$here/go/$1"
  grep -q "$version" "$dir/go.mod" || die "tools/bootstrap/go/$name/go.mod does not pin $version from versions.env.
  fix: update the wrapper module (see its go.mod) or versions.env so they agree"
  # The stamp covers the wrapper module and the link flags, so editing either rebuilds.
  local key
  key="$version $(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-12) $(printf '%s' "$ldflags" | sha256sum | cut -c1-12)"
  fresh "$name" "$key" && return 0
  require_go
  log "building $name $version from $pkg (first build takes minutes; cached afterwards)"
  (cd "$dir" && timed "$name" go build -trimpath -ldflags "$ldflags" -o "$bin/$name.tmp" "$pkg")
  mv "$bin/$name.tmp" "$bin/$name"
  stamp "$name" "$key"
}

# go_helper NAME VERSION: builds the project's own Go program in tools/bootstrap/go/NAME (the
# directory is its main package; go.mod pins VERSION). The stamp covers its Go sources too.
go_helper() {
  local name="$1" version="$2" dir="$here/go/$1"
  grep -q "$version" "$dir/go.mod" || die "tools/bootstrap/go/$name/go.mod does not pin $version from versions.env.
  fix: update the module (see its go.mod) or versions.env so they agree"
  local key
  key="$version $(cat "$dir/go.mod" "$dir/go.sum" "$dir"/*.go | sha256sum | cut -c1-12)"
  fresh "$name" "$key" && return 0
  require_go
  log "building $name ($version, tools/bootstrap/go/$name)"
  (cd "$dir" && timed "$name" go build -trimpath -o "$bin/$name.tmp" .)
  mv "$bin/$name.tmp" "$bin/$name"
  stamp "$name" "$key"
}

pip_tool() { # NAME VERSION: a Python CLI in its own venv under .tools
  local name="$1" version="$2" venv="$root/.tools/venv-$1"
  fresh "$name" "$version" && return 0
  command -v python3 >/dev/null 2>&1 || die "python3 is needed for $name. fix: apt-get install python3 python3-venv"
  log "installing $name $version from PyPI"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$name==$version"
  ln -sf "$venv/bin/$name" "$bin/$name"
  stamp "$name" "$version"
}

install_one() {
  case "$1" in
    kubeconform) go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION" ;;
    # validate's in-process kustomize (sigs.k8s.io/kustomize/api as kubectl 1.34 embeds it).
    kustomize-build) go_helper kustomize-build "$KUSTOMIZE_API_VERSION" ;;
    # validate's Helm/Flux renderer (helm-controller v1.6.4's and kustomize-controller v1.9.0's libraries).
    flux-render) go_helper flux-render "$HELM_CONTROLLER_VERSION" ;;
    actionlint) go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" ;;
    etcd) go_wrapper etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" ;;
    kube-apiserver)
      # Upstream stamps the version at link time (hack/lib/version.sh); without it the server
      # reports v0.0.0-master and kubectl cannot parse it.
      local minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
      local v="k8s.io/component-base/version"
      go_wrapper kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$KUBERNETES_VERSION" \
        "-X $v.gitVersion=$KUBERNETES_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z" ;;
    # The CNCF distribution registry and Helm's CLI: the tests' OCI chart registry on 127.0.0.1 and
    # the client that packages, pushes and pulls charts (test/support/charts.ts). Version stamped as
    # each upstream Makefile does.
    registry)
      go_wrapper registry github.com/distribution/distribution/v3/cmd/registry "$REGISTRY_VERSION" \
        "-X github.com/distribution/distribution/v3/version.version=$REGISTRY_VERSION" ;;
    helm)
      go_wrapper helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION" \
        "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" ;;
    # Kyverno's own CLI: the tests run `kyverno apply` on the repository's ClusterPolicies
    # (test/support/kyverno.ts). Link flags as upstream's Makefile sets them (stripped, version stamped).
    kyverno)
      go_wrapper kyverno github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno "$KYVERNO_VERSION" \
        "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=$KYVERNO_VERSION" ;;
    zizmor) pip_tool zizmor "$ZIZMOR_VERSION" ;;
    pre-commit) pip_tool pre-commit "$PRE_COMMIT_VERSION" ;;
    # Flux's controllers, from wrapper modules that copy each controller's replace lines (go install
    # refuses a module with replace directives). The first cold build takes ~15 min on 2 cores.
    source-controller) go_wrapper source-controller github.com/fluxcd/source-controller "$SOURCE_CONTROLLER_VERSION" ;;
    kustomize-controller) go_wrapper kustomize-controller github.com/fluxcd/kustomize-controller "$KUSTOMIZE_CONTROLLER_VERSION" ;;
    helm-controller) go_wrapper helm-controller github.com/fluxcd/helm-controller "$HELM_CONTROLLER_VERSION" ;;
    *) die "unknown tool or group '$1' (tools: kubeconform kustomize-build flux-render actionlint etcd kube-apiserver registry helm kyverno zizmor pre-commit source-controller kustomize-controller helm-controller; groups: validate flux test all)" ;;
  esac
}

check_kubectl() {
  command -v kubectl >/dev/null 2>&1 || die "kubectl is not on PATH; validate runs \`kubectl kustomize\`.
  fix: install kubectl >= 1.27 (it has kustomize built in): https://kubernetes.io/docs/tasks/tools/"
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(all)
tools=()
for t in "${targets[@]}"; do
  case "$t" in
    validate) tools+=(kubeconform kustomize-build flux-render) ;;
    flux) tools+=(source-controller kustomize-controller helm-controller) ;;
    test) tools+=(kubeconform kustomize-build flux-render etcd kube-apiserver registry helm kyverno source-controller kustomize-controller helm-controller) ;;
    all) tools+=(kubeconform kustomize-build flux-render actionlint etcd kube-apiserver registry helm kyverno zizmor pre-commit source-controller kustomize-controller helm-controller) ;;
    *) tools+=("$t") ;;
  esac
done
check_kubectl
start=$SECONDS
for t in "${tools[@]}"; do install_one "$t"; done
log "tools up to date in .tools/bin ($((SECONDS - start))s)"
