//go:build tools

// Package tools pins github.com/kyverno/kyverno so `go build github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno`
// resolves inside this wrapper module with a checked-in go.sum, and the link flags can stamp the
// version as upstream's Makefile does (without them `kyverno version` says (devel)).
package tools

import _ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno"
