package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"

	"murmur/api"
	"murmur/attach"
)

// connectFunc attaches to the node serving home: a daemon's socket, or a
// node it starts in process with passphrase for an encrypted key file. The
// returned close function releases the service.
type connectFunc func(ctx context.Context, home string, passphrase []byte) (api.Service, func() error, error)

// env is everything a run takes from the process: streams, environment,
// terminal facts, the working directory and the way to reach the node.
// Tests build one by hand.
type env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// EditorOut is where an interactive editor draws (the terminal).
	EditorOut io.Writer
	Getenv    func(string) string
	// Dir is the working directory for git; "" means the process's.
	Dir       string
	StdinTTY  bool
	StdoutTTY bool
	// Width is the terminal width in columns; 0 when unknown.
	Width   int
	Connect connectFunc
	Now     func() time.Time
}

// osEnv is the env of the running process.
func osEnv() env {
	e := env{
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		EditorOut: os.Stderr,
		Getenv:    os.Getenv,
		StdinTTY:  term.IsTerminal(os.Stdin.Fd()),
		StdoutTTY: term.IsTerminal(os.Stdout.Fd()),
		Connect:   connect,
		Now:       time.Now,
	}
	if e.StdoutTTY {
		e.EditorOut = os.Stdout
		if w, _, err := term.GetSize(os.Stdout.Fd()); err == nil && w > 0 {
			e.Width = w
		}
	}
	return e
}

// app is one run of the command: the env, the global flags and the
// service once a command asked for it.
type app struct {
	env
	// out collects stdout; it is written out only when the command
	// succeeds, so a failed command prints nothing there.
	out bytes.Buffer

	home     string     // --home
	passFile string     // --passphrase-file
	repoFlag string     // -R/--repo on repo-scoped commands
	offline  bool       // --offline: the terminal UI's node stays off the mesh
	json     jsonOutput // --json FIELDS and --jq

	pass     []byte // the passphrase, once read
	passRead bool

	svc      api.Service
	closeSvc func() error
	sess     *session // the repo-scoped session, once opened
	// ran is set when a command's own code starts: an error before that
	// came from parsing the command line.
	ran bool
}

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, e env) int {
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.EditorOut == nil {
		e.EditorOut = e.Stderr
	}
	a := &app{env: e}
	root := a.newRoot()
	root.SetArgs(joinJSONFieldArgs(args))
	root.SetOut(&a.out)
	root.SetErr(a.Stderr)
	root.SetIn(a.Stdin)

	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		if _, werr := a.Stdout.Write(a.out.Bytes()); werr != nil {
			err = fmt.Errorf("write output: %w", werr)
		}
	}
	// The message is made while the service is still open: advice may
	// ask it (the user's DID).
	code, msg := exitOK, ""
	if err != nil {
		code, msg = a.failure(ctx, err, cmd)
	}
	if a.closeSvc != nil {
		if cerr := a.closeSvc(); cerr != nil && code == exitOK {
			code, msg = exitFailure, "murmur: "+joinSentences("could not close the store cleanly: "+clean(cerr.Error()),
				"What was written is safe; run again with MURMUR_LOG=debug if it persists")
		}
	}
	if msg != "" {
		fmt.Fprintln(a.Stderr, msg)
	}
	return code
}

// failure is the exit status and the stderr line for a failed command.
func (a *app) failure(ctx context.Context, err error, cmd interface{ CommandPath() string }) (int, string) {
	var ue *usageError
	switch {
	case ctx.Err() != nil:
		return exitInterrupted, "murmur: interrupted."
	case errors.As(err, &ue) || !a.ran:
		return exitUsage, "murmur: " + usageLine(err, cmd)
	}
	return exitFailure, "murmur: " + a.describe(ctx, err)
}

// usageLine is the message for a command line that could not be run.
func usageLine(err error, cmd interface{ CommandPath() string }) string {
	msg := sentence(oneLine(err.Error()))
	path := "murmur"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	return fmt.Sprintf("%s Run '%s --help' for usage.", msg, path)
}

// service attaches to the node on first use.
func (a *app) service(ctx context.Context) (api.Service, error) {
	if a.svc != nil {
		return a.svc, nil
	}
	pass, err := a.passphrase()
	if err != nil {
		return nil, err
	}
	home, err := a.homeDir()
	if err != nil {
		return nil, err
	}
	if a.Connect == nil {
		return nil, errors.New("no way to reach a node")
	}
	svc, closeFn, err := a.Connect(ctx, home, pass)
	if err != nil {
		return nil, err
	}
	a.svc, a.closeSvc = svc, closeFn
	return svc, nil
}

// homeDir is the data directory: --home, else $MURMUR_HOME, else
// $XDG_DATA_HOME/murmur, else ~/.local/share/murmur.
func (a *app) homeDir() (string, error) {
	home, err := attach.Home(a.home, a.Getenv)
	if errors.Is(err, attach.ErrNoHome) {
		return "", &userError{
			what: "cannot find the data directory: $HOME is not set",
			todo: "Pass --home DIR or set MURMUR_HOME",
		}
	}
	return home, err
}

// maxPassphrase bounds a passphrase file.
const maxPassphrase = 4 << 10

// passphrase is the key file passphrase from --passphrase-file or
// $MURMUR_PASSPHRASE; nil when neither is given.
func (a *app) passphrase() ([]byte, error) {
	if a.passRead {
		return a.pass, nil
	}
	p, err := a.readPassphrase()
	if err != nil {
		return nil, err
	}
	a.pass, a.passRead = p, true
	return p, nil
}

func (a *app) readPassphrase() ([]byte, error) {
	if a.passFile != "" {
		b, err := readLimited(a.passFile, a.Stdin, maxPassphrase)
		if err != nil {
			return nil, &userError{
				what: fmt.Sprintf("cannot read the passphrase file: %s", fileErr(err)),
				todo: "Check the path given to --passphrase-file",
			}
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		if len(b) == 0 {
			return nil, &userError{
				what: fmt.Sprintf("the passphrase file %s is empty", a.passFile),
				todo: "Write the passphrase into it, or drop --passphrase-file",
			}
		}
		return b, nil
	}
	if p := a.Getenv("MURMUR_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	return nil, nil
}

// readLimited reads a file ("-" is stdin) of at most limit bytes.
func readLimited(name string, stdin io.Reader, limit int64) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s is a directory", name)
		}
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &tooLongError{limit: limit}
	}
	return b, nil
}

// tooLongError reports input over a size limit.
type tooLongError struct{ limit int64 }

func (e *tooLongError) Error() string {
	return fmt.Sprintf("it is over the limit of %d bytes", e.limit)
}

// fileErr describes a file error without Go's "open x:" prefix noise.
func fileErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %s", pe.Path, describeErrno(pe.Err))
	}
	return err.Error()
}

func describeErrno(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
