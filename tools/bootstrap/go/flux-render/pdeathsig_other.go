//go:build !linux

package main

// dieWithParent: elsewhere flux-render relies on stdin's EOF when its parent exits.
func dieWithParent() {}
