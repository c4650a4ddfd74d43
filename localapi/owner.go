package localapi

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DaemonLockName is the file whose flock(2) marks a daemon (`murmur
// serve`) that is waiting for the store, opening it or serving it. It is
// never removed.
const DaemonLockName = "murmur.daemon"

// Role is what kind of process holds a data directory's store.
type Role string

// Roles of an Owner.
const (
	// RoleCommand is a one-shot command: it holds the store for a moment.
	RoleCommand Role = "command"
	// RoleInteractive is a terminal UI: it holds the store until the user
	// quits, so a daemon does not wait for it.
	RoleInteractive Role = "interactive"
	// RoleDaemon is `murmur serve`.
	RoleDaemon Role = "daemon"
)

// Owner describes the process that holds a data directory's store (or its
// daemon lock).
//
// Format: the holder writes it as one JSON object into the lock file it
// holds ({"pid":N,"command":"…","role":"…"}) right after taking the lock,
// and empties the file before releasing it. Readers trust it only while the
// lock is held, read at most maxOwnerRecord bytes and treat what does not
// parse as unknown. Fields are added, never renamed.
type Owner struct {
	// PID is the holder's process ID; Attach and ServeNode fill it in.
	PID int `json:"pid"`
	// Command is what the user ran, such as "murmur issue create".
	Command string `json:"command,omitempty"`
	// Role says how long the holder keeps the store (RoleCommand when
	// empty).
	Role Role `json:"role,omitempty"`
}

// maxOwnerRecord bounds an owner record read from a lock file.
const maxOwnerRecord = 4 << 10

// String names the owner for a message: "murmur issue create (pid 42)".
func (o Owner) String() string {
	cmd := o.Command
	if cmd == "" {
		cmd = "a murmur process"
	}
	if o.PID <= 0 {
		return cmd
	}
	return fmt.Sprintf("%s (pid %d)", cmd, o.PID)
}

// self fills in this process's ID and defaults.
func (o Owner) self(role Role) Owner {
	o.PID = os.Getpid()
	if o.Role == "" {
		o.Role = role
	}
	if o.Command == "" {
		o.Command = filepath.Base(os.Args[0])
	}
	return o
}

// writeOwner records o in the lock file l holds.
func (l *dirLock) writeOwner(o Owner) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("localapi: owner record: %w", err)
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("localapi: write owner record: %w", err)
	}
	if _, err := l.f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("localapi: write owner record: %w", err)
	}
	return nil
}

// readOwner reads the owner record of the lock file at path; ok is false
// when there is none or it does not parse (the holder is writing it, or
// is an older murmur).
func readOwner(path string) (o Owner, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return Owner{}, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxOwnerRecord))
	if err != nil || json.Unmarshal(b, &o) != nil || o.PID <= 0 {
		return Owner{}, false
	}
	o.Command = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, o.Command)
	return o, true
}

// HeldError is the error of ServeNode when another process keeps the
// store: a terminal UI (at once) or a command that did not finish within
// the wait. It wraps ErrBusy.
type HeldError struct {
	// Owner is the holder, as its record says (zero when unknown).
	Owner Owner
	// Waited is how long ServeNode waited for it.
	Waited time.Duration
}

func (e *HeldError) Error() string {
	who := "another murmur process"
	if e.Owner.PID > 0 {
		who = e.Owner.String()
	}
	if e.Owner.Role == RoleInteractive {
		return fmt.Sprintf("localapi: %s holds the data directory's store and keeps it until it quits", who)
	}
	return fmt.Sprintf("localapi: %s still holds the data directory's store after %v", who, e.Waited.Round(time.Millisecond))
}

func (e *HeldError) Unwrap() error { return ErrBusy }

// RunningError is the error of Serve and ServeNode when another daemon
// serves the data directory or is starting. It wraps ErrDaemonRunning.
type RunningError struct {
	// Owner is the other daemon, as its record says (zero when unknown).
	Owner Owner
}

func (e *RunningError) Error() string {
	if e.Owner.PID <= 0 {
		return ErrDaemonRunning.Error()
	}
	return fmt.Sprintf("%v: %s", ErrDaemonRunning, e.Owner)
}

func (e *RunningError) Unwrap() error { return ErrDaemonRunning }
