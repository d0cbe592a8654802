// Package notify sends shopscore's e-mail notifications (issue 16,
// docs/DESIGN.md §12): the SMTP configuration and its checks, a Mailer that
// sends one message within a deadline and says whether a failure is worth
// retrying (SendError), and the messages themselves, rendered from typed
// events in the reader's language, with names rather than ids, dates in
// the organisation's time zone and figures in the reader's format.
//
// The package holds no storage and reads no flags or environment: the
// caller builds a Config, and a later outbox worker turns events into
// Render calls and retries the transient failures of Send.
package notify
