//go:build tools

// Package tools pins go.etcd.io/etcd/server/v3, whose main package is the etcd binary. Its own
// go.mod replaces sibling modules with ../ paths, which is why `go install ...@version` fails and
// this wrapper exists.
package tools

import _ "go.etcd.io/etcd/server/v3"
