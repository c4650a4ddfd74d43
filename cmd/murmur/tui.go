package main

import (
	"context"
	"errors"
	"strings"

	"murmur/api"
	"murmur/tui"
)

// errTUINotBuilt made murmur print its help instead of a UI; runTUI no
// longer returns it, and runRoot keeps the check for terminals the UI
// cannot use.
var errTUINotBuilt = errors.New("the terminal UI is not available")

// runTUI opens the terminal UI. It is called when murmur runs with no
// arguments and both stdin and stdout are terminals. The UI uses the
// running daemon when there is one; otherwise it starts a node in this
// process on the mesh (joining $MURMUR_JOIN and the peers it knows), or
// offline with --offline or when networking cannot start.
var runTUI = func(ctx context.Context, a *app) error {
	ctx = withInteractive(ctx)
	svc, err := a.tuiService(ctx)
	if err != nil {
		return err
	}
	st, err := svc.Status(ctx)
	offline := err != nil || !st.Online
	return tui.Run(ctx, svc, tui.Options{Offline: offline, Repo: a.workingCopyRepo(ctx)})
}

func (a *app) tuiService(ctx context.Context) (api.Service, error) {
	if a.offline {
		return a.service(ctx)
	}
	mc := embeddedMesh(a, nil)
	mc.Manual = false
	for _, p := range strings.Split(a.Getenv("MURMUR_JOIN"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			mc.Join = append(mc.Join, p)
		}
	}
	svc, err := a.service(withMesh(ctx, mc))
	if err == nil || api.ErrorCode(err) == api.CodeLocked {
		return svc, err
	}
	// The mesh could not start (no usable address, say): work offline.
	return a.service(ctx)
}
