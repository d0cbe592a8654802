// Package field is shopscore's offline field client: the library a phone
// app (through package mobile) or the shopper CLI uses to record mystery
// shopping visits without a network and send them when one is there.
//
// Everything lives in one SQLite database in a folder the caller gives,
// next to a content-addressed folder of photos: the session, the
// server-owned data pulled by cursor (assignments, checklist versions,
// stores, staff, receipts), the device-owned drafts and the outbox. A draft
// or a queued visit survives any kill of the process.
//
// The sync rules are those of docs/DESIGN.md §3 and §4: the device makes every
// ID; a submitted visit is frozen into the outbox with the next device seq
// in one transaction; Sync pushes the outbox in seq order, uploads the
// evidence of pushed visits straight to the blob store, and pulls changes
// by an opaque cursor saved in the same transaction as the page it ends. A
// rejection never blocks the queue, and a visit is "sent" only when the
// server's receipt says no photo is missing.
//
// Errors are domain errors of package audit (audit.ErrorCode and
// audit.ErrorMessage read them); errors from the server are mapped back
// with protocol.FromConnect.
package field
