package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrDamaged: a file of the store is missing or does not read back as
// written. Errors that match it are *DamageError and name the file. The
// store is never recreated or rewritten over such a file; a repair moves it
// aside (package doctor).
var ErrDamaged = errors.New("storage: store damaged")

// DamageError says which file of a store is missing or damaged.
type DamageError struct {
	// Dir is the store directory.
	Dir string
	// File is the damaged or missing file's name inside Dir, or "" when
	// Pebble did not say which file it was.
	File string
	// Problem says what is wrong, as a phrase ("is missing", "fails its
	// checksum: …").
	Problem string
	// Err is the cause, if any.
	Err error
}

func (e *DamageError) Error() string {
	where := e.Dir
	if e.File != "" {
		where = filepath.Join(e.Dir, e.File)
	}
	return fmt.Sprintf("storage: %s %s", where, e.Problem)
}

// Is makes a DamageError match ErrDamaged.
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

func (e *DamageError) Unwrap() error { return e.Err }

// Names of Pebble's files that mark a directory as holding a database.
const (
	manifestMarkerPrefix = "marker.manifest."
	manifestPrefix       = "MANIFEST-"
)

// checkExisting looks at dir before Pebble may touch it. It reports
// whether dir already holds a database (any of Pebble's own files), and an
// error when it does but the files that say what the database is are
// missing: Pebble would otherwise start a new, empty database there and
// delete the old tables as obsolete.
func checkExisting(fs vfs.FS, dir string) (exists bool, err error) {
	names, err := fs.List(dir)
	if err != nil {
		// A directory that is not there yet is a new store.
		return false, nil
	}
	var marker string
	manifests := map[string]bool{}
	tables := 0
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, manifestMarkerPrefix):
			exists = true
			if marker == "" || n > marker {
				marker = n
			}
		case strings.HasPrefix(n, manifestPrefix):
			exists = true
			manifests[n] = true
		case strings.HasSuffix(n, ".sst"):
			exists, tables = true, tables+1
		case strings.HasSuffix(n, ".log"), strings.HasPrefix(n, "OPTIONS-"), n == "CURRENT":
			exists = true
		}
	}
	if !exists {
		return false, nil
	}
	if marker == "" {
		return true, &DamageError{Dir: dir, File: "marker.manifest.*",
			Problem: fmt.Sprintf("is missing although the store holds %d table files; it names the MANIFEST, without which the store cannot be read", tables)}
	}
	// marker.manifest.NNNNNN.MANIFEST-XXXXXX names the current MANIFEST.
	rest := strings.TrimPrefix(marker, manifestMarkerPrefix)
	i := strings.IndexByte(rest, '.')
	if i < 0 || !strings.HasPrefix(rest[i+1:], manifestPrefix) {
		return true, &DamageError{Dir: dir, File: marker, Problem: "does not name a MANIFEST file"}
	}
	if m := rest[i+1:]; !manifests[m] {
		return true, &DamageError{Dir: dir, File: m,
			Problem: "is missing; it lists the store's table files, without it the store cannot be read"}
	}
	return true, nil
}

// damaged turns a Pebble corruption error into a *DamageError naming the
// file, and wraps any other error with what was being done.
func damaged(dir, what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrDamaged) {
		return err
	}
	if !pebble.IsCorruptionError(err) {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	file := ""
	if info := pebble.ExtractDataCorruptionInfo(err); info != nil && info.Path != "" {
		file = filepath.Base(info.Path)
	}
	return &DamageError{Dir: dir, File: file, Problem: "is damaged: " + firstLine(err.Error()), Err: err}
}

// pebbleFileName matches the name of a table, log or MANIFEST file.
var pebbleFileName = regexp.MustCompile(`\b(MANIFEST-\d+|\d{6,}\.(sst|log|blob))\b`)

// openFailure is the error for an existing store that Pebble would not
// open. Pebble marks only some damage as corruption (a table shorter than
// its MANIFEST says, or missing, is not), so every failure is damage except
// those of the environment: the lock another process holds, permissions,
// a full disk.
func openFailure(dir string, err error) error {
	if pebble.IsCorruptionError(err) {
		return damaged(dir, "open "+dir, err)
	}
	msg := firstLine(err.Error())
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EAGAIN) ||
		strings.Contains(msg, "lock") {
		return fmt.Errorf("storage: open %s: %w", dir, err)
	}
	msg = strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
	return &DamageError{Dir: dir, File: pebbleFileName.FindString(msg), Problem: "cannot be read: " + msg, Err: err}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
