package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"murmur/api"
	"murmur/identity"
	"murmur/node"
)

// usageError is a command line that cannot be run as typed (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// userError is a failure with a sentence saying what was wrong and one
// saying what to do about it.
type userError struct {
	what string
	todo string
	err  error // the cause, for errors.Is/As; may be nil
}

func (e *userError) Error() string { return joinSentences(e.what, e.todo) }
func (e *userError) Unwrap() error { return e.err }

// hintError gives advice for one api error code in the context of the
// command that got it.
type hintError struct {
	err  error
	code string
	todo string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// hint attaches todo to err when err carries the api error code; other
// errors are returned unchanged.
func hint(err error, code, todo string) error {
	if err == nil || api.ErrorCode(err) != code {
		return err
	}
	return &hintError{err: err, code: code, todo: todo}
}

// describe turns an error into the single line printed after "murmur: ".
func (a *app) describe(ctx context.Context, err error) string {
	var ue *userError
	if errors.As(err, &ue) {
		return joinSentences(ue.what, ue.todo)
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		what, todo := a.apiParts(ae)
		var he *hintError
		if errors.As(err, &he) && he.code == ae.Code {
			todo = he.todo
		}
		return joinSentences(what, todo)
	}
	switch {
	case errors.Is(err, identity.ErrPassphraseRequired):
		return joinSentences("the key file is encrypted and no passphrase was given",
			"Pass --passphrase-file FILE or set MURMUR_PASSPHRASE")
	case errors.Is(err, identity.ErrWrongPassphrase):
		return joinSentences("the passphrase does not decrypt the key file",
			"Check the file given to --passphrase-file or $MURMUR_PASSPHRASE")
	case errors.Is(err, identity.ErrCorruptKeyFile):
		return joinSentences("the key file is damaged ("+innermost(err)+")",
			"Restore it from a backup, or move it away and run 'murmur id init' to make a new identity")
	case errors.Is(err, identity.ErrInsecurePermissions):
		return joinSentences("the key file can be read by other users ("+innermost(err)+")",
			"Make it private with chmod 600 and run the command again")
	}
	return joinSentences(clean(err.Error()), "Run again with MURMUR_LOG=debug for details")
}

// apiParts splits an api error into what was wrong and what to do. The
// node's messages read "what; what to do"; the matches of an ambiguous ID
// or a repo choice are listed; key file troubles get the CLI's own words.
func (a *app) apiParts(e *api.Error) (what, todo string) {
	msg := strings.ReplaceAll(clean(e.Message), "`", "'")
	switch {
	case e.Code == api.CodeLocked && strings.Contains(msg, identity.ErrWrongPassphrase.Error()):
		return "the passphrase does not decrypt the key file " + a.keyFile(),
			"Check the file given to --passphrase-file or $MURMUR_PASSPHRASE"
	case e.Code == api.CodeLocked:
		return "the key file " + a.keyFile() + " is encrypted and no passphrase was given",
			"Pass --passphrase-file FILE or set MURMUR_PASSPHRASE"
	case strings.Contains(msg, identity.ErrCorruptKeyFile.Error()):
		return "the key file " + a.keyFile() + " is damaged",
			"Restore it from a backup, or move it away and run 'murmur id init' to make a new identity"
	case strings.Contains(msg, identity.ErrInsecurePermissions.Error()):
		return "the key file " + a.keyFile() + " can be read by other users",
			"Make it private with 'chmod 600 " + a.keyFile() + "'"
	}
	what = msg
	if i := strings.LastIndex(msg, "; "); i > 0 {
		what, todo = msg[:i], msg[i+2:]
		if todo != "" {
			todo = strings.ToUpper(todo[:1]) + todo[1:]
		}
	}
	if what == "" {
		what = strings.ReplaceAll(e.Code, "_", " ")
	}
	if len(e.Matches) > 0 {
		if e.Code == api.CodeAmbiguous {
			what = strings.TrimRight(what, ". ") + ": " + listMatches(e.Matches)
		} else {
			what = strings.TrimRight(what, ". ") + " (here: " + listMatches(e.Matches) + ")"
		}
	}
	if todo == "" {
		todo = a.defaultTodo(e)
	}
	return what, todo
}

// keyFile is the key file's path for messages.
func (a *app) keyFile() string {
	home, err := a.homeDir()
	if err != nil {
		return node.KeyFile
	}
	return filepath.Join(home, node.KeyFile)
}

// maxMatches bounds how many matches an error line lists.
const maxMatches = 10

func listMatches(m []string) string {
	shown := m
	if len(shown) > maxMatches {
		shown = shown[:maxMatches]
	}
	parts := make([]string, len(shown))
	for i, s := range shown {
		parts[i] = clean(s) // clean folds the node's "id  name" to "id name"
	}
	s := strings.Join(parts, ", ")
	if len(m) > len(shown) {
		s += fmt.Sprintf(" and %d more", len(m)-len(shown))
	}
	return s
}

// defaultTodo is the advice for an api error when the command gave none.
func (a *app) defaultTodo(e *api.Error) string {
	switch e.Code {
	case api.CodeNotFound:
		if len(e.Matches) > 0 {
			return "Pick one of them with -R"
		}
		return "Check the ID or name; 'murmur issue list -s all', 'murmur patch list -s all' and 'murmur repo list' show them"
	case api.CodeAmbiguous:
		return "Type more characters of the ID"
	case api.CodeInvalid:
		return "Fix the value and run the command again"
	case api.CodeForbidden:
		if did := a.ownDID(); did != "" {
			return "Ask a maintainer of the repo to do it, or to make you one with 'murmur repo maintainer add " + did + "'"
		}
		return "Ask a maintainer of the repo to do it"
	case api.CodeNoIdentity:
		return "Create one with 'murmur id init'"
	case api.CodeLocked:
		return "Pass --passphrase-file FILE or set MURMUR_PASSPHRASE"
	case api.CodeConflict:
		return "Nothing was changed"
	case api.CodeNoRepo:
		return "Pick one with -R/--repo, or create one with 'murmur repo create --name NAME'"
	case api.CodeBrowserOrigin:
		return "The local API does not answer browsers"
	}
	return "Run again with MURMUR_LOG=debug for details, and report it if it persists"
}

// ownDID is the local identity's DID, or "" when it cannot be had quickly.
func (a *app) ownDID() string {
	if a.svc == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	id, err := a.svc.Identity(ctx)
	if err != nil {
		return ""
	}
	return clean(id.ID)
}

// joinSentences makes "what. todo." from two phrases.
func joinSentences(what, todo string) string {
	what = strings.TrimRight(strings.TrimSpace(what), ". ")
	if todo == "" {
		return what + "."
	}
	return what + ". " + sentence(todo)
}

// sentence ends s with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clean makes text from a store or peer safe to print on one line.
func clean(s string) string { return oneLine(sanitizeLine(s)) }

// innermost is the last part of a wrapped error chain ("a: b: c" gives
// "b: c" without package prefixes), short enough for one line.
func innermost(err error) string {
	msg := clean(err.Error())
	for _, p := range []string{"node: ", "identity: ", "storage: ", "localapi: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}
