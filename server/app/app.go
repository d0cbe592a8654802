// Package app holds the server's use cases: every business rule that
// needs storage (admitting, scoring and flagging a pushed visit; review
// and assignment transitions; corrections; evidence completeness; bonus
// runs; imports) written once, over the interfaces of package storage,
// with the transaction boundary decided here. It imports no database
// driver (TestNoStorageDriver proves it), so every backend runs the same
// rules, and its tests run on each backend. Rules that need no storage
// live in the domain, package audit; transport (Connect, HTTP) lives in
// package server, which calls these use cases.
package app

import (
	"context"
	"sync"
	"time"

	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/webhook"
)

// App is the use cases over one storage.
type App struct {
	st  storage.Storage
	now func() time.Time
	// versions keeps published and retired checklist versions with their
	// scorers (versionKey → *pushVersion) for pushes: their content never
	// changes.
	versions sync.Map
	// pushes gathers the pushes waiting for the writer into group
	// commits.
	pushes pushQueue
	// webhookPolicy decides which endpoint URLs may be registered.
	webhookPolicy webhook.Policy
	// mail says the server sends e-mail: the use cases queue it.
	mail bool
}

// Options configures an App; the zero value is the production one.
type Options struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// WebhookPolicy decides which webhook endpoint URLs may be
	// registered (the zero Policy: https to public addresses only); the
	// delivery client is built from the same policy.
	WebhookPolicy webhook.Policy
	// Mail says the server has an SMTP configuration: the use cases
	// queue e-mail notifications (notifications.go); without it they
	// queue none.
	Mail bool
}

// New returns the use cases over st.
func New(st storage.Storage, o Options) *App {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &App{st: st, now: o.Now, webhookPolicy: o.WebhookPolicy, mail: o.Mail}
}

// Storage returns the storage the use cases run over, for queries that
// carry no rule of their own.
func (a *App) Storage() storage.Storage { return a.st }

// updateOrTrial is Update, or Trial for a dry run: a validate-only run
// takes the same path as the real one and stores nothing.
func (a *App) updateOrTrial(dryRun bool) func(context.Context, func(storage.Tx) error) error {
	if dryRun {
		return a.st.Trial
	}
	return a.st.Update
}
