//go:build tools

// Package tools pins helm.sh/helm/v4 (Helm's own CLI, cmd/helm) so `go build helm.sh/helm/v4/cmd/helm`
// resolves inside this wrapper module with a checked-in go.sum, and the link flags can stamp the
// version as upstream's Makefile does (without them `helm version` says v4.2).
package tools

import _ "helm.sh/helm/v4/cmd/helm"
