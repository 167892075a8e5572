//go:build tools

// Package tools pins github.com/fluxcd/helm-controller so `go build github.com/fluxcd/helm-controller` resolves inside this wrapper module.
package tools

import _ "github.com/fluxcd/helm-controller"
