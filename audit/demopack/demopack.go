// Package demopack ships the demo standards pack of shopscore: corporate
// service standards in every demo category and the checklists that check
// them (store visit, back-office call, delivery, e-mail and chat). Parse it
// with audit.ParsePack("demo-pack.json", demopack.JSON).
package demopack

import _ "embed"

// JSON is the demo pack, in the audit package's pack format
// (shopscore.pack/v1).
//
//go:embed demo-pack.json
var JSON []byte
