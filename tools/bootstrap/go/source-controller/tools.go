//go:build tools

// Package tools pins github.com/fluxcd/source-controller so `go build github.com/fluxcd/source-controller` resolves inside this wrapper module.
package tools

import _ "github.com/fluxcd/source-controller"
