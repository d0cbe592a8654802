// Package webhook delivers shopscore's events to the HTTP endpoints admins
// register (docs/DESIGN.md §11): the Standard Webhooks signature and its
// verifier, the policy that keeps endpoint URLs out of the operator's own
// network, one signed delivery attempt, the retry schedule, and a worker
// that delivers what a Source says is due.
//
// The package holds no storage and reads no configuration: the Source
// interface is what storage implements (an outbox of due deliveries,
// claimed by one server at a time), and the caller builds the Policy and
// the Schedule from its flags.
package webhook
