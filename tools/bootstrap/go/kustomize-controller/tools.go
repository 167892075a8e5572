//go:build tools

// Package tools pins github.com/fluxcd/kustomize-controller so `go build github.com/fluxcd/kustomize-controller` resolves inside this wrapper module.
package tools

import _ "github.com/fluxcd/kustomize-controller"
