// Package protocol is the sync protocol that the server and the field
// client share (docs/DESIGN.md §3): the conversion of visits between the wire
// and the domain, the digest that decides whether a replayed mutation is
// the same or different content, the opaque pull cursor, the one table
// between domain error codes and Connect codes, and which failures a
// device retries.
//
// The package lives under sync/ with its own name so that it never
// shadows the standard library's sync package.
package protocol
