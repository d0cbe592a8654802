//go:build gobind_deps

// This file is never built. gobind (pinned in tools/go.mod) looks up
// golang.org/x/mobile's bind packages in this module when it generates
// the facade's bindings (TestGobind), and the Go code it generates imports
// bind/seq; nothing this module builds imports them, so without these
// imports "go mod tidy" would drop golang.org/x/mobile from go.mod. Tidy
// reads the files of every build tag, so it keeps what they import.
package mobile

import (
	_ "golang.org/x/mobile/bind"
	_ "golang.org/x/mobile/bind/java"
	_ "golang.org/x/mobile/bind/seq"
)
