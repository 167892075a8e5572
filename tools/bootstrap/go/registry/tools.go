//go:build tools

// Package tools pins github.com/distribution/distribution/v3 (the CNCF distribution registry) so
// `go build github.com/distribution/distribution/v3/cmd/registry` resolves inside this wrapper
// module with a checked-in go.sum, and the link flags can stamp the version as upstream's Makefile
// does (go install takes no -ldflags per tool).
package tools

import _ "github.com/distribution/distribution/v3/cmd/registry"
