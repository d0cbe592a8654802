package main

import (
	"fmt"
	"strings"

	"github.com/shopscore/shopscore/internal/cli"
)

func init() {
	register(
		command{name: "sync", synopsis: "shopper sync", run: (*app).sync},
		command{name: "assignments", readOnly: true, synopsis: "shopper assignments", run: (*app).assignments},
		command{name: "checklists", readOnly: true, synopsis: "shopper checklists", run: (*app).checklists},
	)
}

// sync sends visits and photos and fetches assignments.
func (a *app) sync(fs *cli.FlagSet, args []string) error {
	c, _, err := a.parseOpen(fs, args, 0, "")
	if err != nil {
		return err
	}
	bar := newProgressBar(a.stdout, isTerminal(a.stdout))
	res, err := c.Sync(a.ctx, bar.update)
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "pushed %d visit(s), %d photo(s) verified, %d change(s) pulled", res.Pushed, res.PhotosVerified, res.Pull.Changes)
	if res.Pull.FullResync {
		fmt.Fprint(a.stdout, " (full resync)")
	}
	fmt.Fprintln(a.stdout)
	for _, e := range res.PhotoErrors {
		fmt.Fprintf(a.stdout, "photo not sent yet: %s\n", describe(e))
	}
	if res.Rejected > 0 {
		fmt.Fprintf(a.stdout, "%d visit(s) rejected by the server: see `shopper status`\n", res.Rejected)
	}
	return nil
}

func (a *app) assignments(fs *cli.FlagSet, args []string) error {
	c, _, err := a.parseOpen(fs, args, 0, "")
	if err != nil {
		return err
	}
	as, err := c.Assignments(a.ctx)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		fmt.Fprintln(a.stdout, "no assignments on this device (run `shopper sync` when online)")
		return nil
	}
	for _, x := range as {
		line := fmt.Sprintf("%s  %-8s %-30s %s v%d  %s..%s  %s", x.ID, x.StoreCode, x.StoreName, x.ChecklistID, x.ChecklistVersion,
			x.WindowStart.Local().Format("Jan 2"), x.WindowEnd.Local().Format("Jan 2"), x.State)
		if x.Removed != "" {
			line += "  WITHDRAWN (" + x.Removed + ")"
		}
		if x.DraftVisitID != "" {
			line += "  visit in progress: " + x.DraftVisitID
		}
		fmt.Fprintln(a.stdout, line)
	}
	return nil
}

func (a *app) checklists(fs *cli.FlagSet, args []string) error {
	c, _, err := a.parseOpen(fs, args, 0, "")
	if err != nil {
		return err
	}
	us, err := c.UnplannedChecklists(a.ctx)
	if err != nil {
		return err
	}
	if len(us) == 0 {
		fmt.Fprintln(a.stdout, "no checklists for unplanned visits on this device")
	}
	for _, u := range us {
		var stores []string
		for _, s := range u.Stores {
			stores = append(stores, s.Code)
		}
		fmt.Fprintf(a.stdout, "%s v%d  %s (%s)  stores: %s\n", u.ChecklistID, u.Version, u.Name, u.Channel, strings.Join(stores, ", "))
	}
	return nil
}
