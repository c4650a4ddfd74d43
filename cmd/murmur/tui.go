package main

import (
	"context"
	"errors"

	"murmur/tui"
)

// errTUINotBuilt made murmur print its help instead of a UI; runTUI no
// longer returns it, and runRoot keeps the check for terminals the UI
// cannot use.
var errTUINotBuilt = errors.New("the terminal UI is not available")

// runTUI opens the terminal UI. It is called when murmur runs with no
// arguments and both stdin and stdout are terminals. The UI gets its
// api.Service from a.service(ctx) (the daemon's or an embedded node),
// which run closes after runTUI returns.
var runTUI = func(ctx context.Context, a *app) error {
	svc, err := a.service(ctx)
	if err != nil {
		return err
	}
	st, err := svc.Status(ctx)
	offline := err != nil || !st.Online
	return tui.Run(ctx, svc, tui.Options{Offline: offline, Repo: a.workingCopyRepo(ctx)})
}
