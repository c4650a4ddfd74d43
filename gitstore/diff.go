package gitstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Bounds of a diff. A diff beyond them is cut and reported Truncated:
// the files past the cut keep their line counts but lose their hunks.
const (
	MaxDiffBytes = 16 << 20 // bytes of unified patch read from git
	MaxDiffFiles = 10000    // files listed
	MaxDiffLines = 200000   // hunk lines kept, all files together
)

// ErrNoPath: a path does not name a file in a commit.
var ErrNoPath = errors.New("gitstore: no such file")

// Diff is the change between two commits of one repository.
type Diff struct {
	Files []FileDiff
	// Truncated reports that the diff was larger than the bounds and
	// was cut (see MaxDiffBytes).
	Truncated bool
}

// FileDiff is one file of a Diff.
type FileDiff struct {
	Path    string
	OldPath string // the path before a rename or copy
	Status  string // added | modified | deleted | renamed | copied
	Binary  bool
	Added   int
	Deleted int
	Hunks   []Hunk
}

// Hunk is one hunk of a unified diff.
type Hunk struct {
	Header             string // the whole "@@ -a,b +c,d @@ context" line
	OldStart, OldLines int
	NewStart, NewLines int
	Lines              []Line
}

// Line is one line of a hunk: Kind is ' ' (context), '+' or '-'. Old
// and New are its 1-based line numbers in the old and new file, 0 on the
// side where it does not exist.
type Line struct {
	Kind     byte
	Old, New int
	Text     string
}

// MergeBase returns the best common ancestor of commits a and b in the
// repository of name, or "" when they have none.
func (s *Store) MergeBase(ctx context.Context, name, a, b string) (string, error) {
	dir, err := s.existing(name)
	if err != nil {
		return "", err
	}
	if !oidRE.MatchString(a) || !oidRE.MatchString(b) {
		return "", fmt.Errorf("gitstore: merge-base: %q / %q are not object IDs", a, b)
	}
	out, err := s.git.run(ctx, dir, nil, "merge-base", a, b)
	if err != nil {
		var ee interface{ ExitCode() int }
		if errors.As(err, &ee) && ee.ExitCode() == 1 && len(bytes.TrimSpace(out)) == 0 {
			return "", nil // no common ancestor
		}
		return "", err
	}
	base := strings.TrimSpace(string(out))
	if !oidRE.MatchString(base) {
		return "", fmt.Errorf("gitstore: merge-base printed %q", base)
	}
	return base, nil
}

// FirstParent returns the first parent of commit, or "" for a root
// commit.
func (s *Store) FirstParent(ctx context.Context, name, commit string) (string, error) {
	dir, err := s.existing(name)
	if err != nil {
		return "", err
	}
	if !oidRE.MatchString(commit) {
		return "", fmt.Errorf("gitstore: %q is not an object ID", commit)
	}
	out, err := s.git.run(ctx, dir, nil, "rev-list", "--parents", "-n", "1", commit)
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return "", nil
	}
	return f[1], nil
}

// cleanPath reports whether p is a path git can look up in a tree as
// given: relative, slash-separated, with no "." or ".." elements.
func cleanPath(p string) bool {
	return p != "" && p != "." && path.Clean(p) == p && !strings.HasPrefix(p, "/") &&
		!strings.HasPrefix(p, "../") && p != ".." && !strings.ContainsAny(p, "\x00\n")
}

// LineCount returns the number of lines of the file at p in commit (a
// last line without a newline counts). It fails with ErrNoPath when p
// names no file there (a directory or a submodule is not a file).
func (s *Store) LineCount(ctx context.Context, name, commit, p string) (int, error) {
	dir, err := s.existing(name)
	if err != nil {
		return 0, err
	}
	if !oidRE.MatchString(commit) {
		return 0, fmt.Errorf("gitstore: %q is not an object ID", commit)
	}
	if !cleanPath(p) {
		return 0, fmt.Errorf("%w: %q is not a clean path relative to the top of the tree", ErrNoPath, p)
	}
	spec := commit + ":" + p
	out, err := s.git.run(ctx, dir, nil, "cat-file", "-t", spec)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not in commit %s", ErrNoPath, p, commit)
	}
	if t := strings.TrimSpace(string(out)); t != "blob" {
		return 0, fmt.Errorf("%w: %s is a %s in commit %s, not a file", ErrNoPath, p, t, commit)
	}
	cmd := s.git.command(ctx, dir, "cat-file", "blob", spec)
	var lc lineCounter
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &lc, stderr
	if err := cmd.Run(); err != nil {
		return 0, gitError([]string{"cat-file"}, err, stderr)
	}
	return lc.count(), nil
}

// lineCounter counts the lines written to it without keeping them.
type lineCounter struct {
	newlines int
	last     byte
	any      bool
}

func (l *lineCounter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.newlines += bytes.Count(p, []byte{'\n'})
		l.last, l.any = p[len(p)-1], true
	}
	return len(p), nil
}

func (l *lineCounter) count() int {
	if l.any && l.last != '\n' {
		return l.newlines + 1
	}
	return l.newlines
}

// diffArgs are the fixed options of every diff: no colour, no external
// diff or text conversion, renames found.
var diffArgs = []string{"diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M"}

// Diff returns the change from commit from to commit to in the
// repository of name; from "" means the empty tree. With stat it lists
// the files and their line counts without hunks.
func (s *Store) Diff(ctx context.Context, name, from, to string, stat bool) (*Diff, error) {
	dir, err := s.existing(name)
	if err != nil {
		return nil, err
	}
	if (from != "" && !oidRE.MatchString(from)) || !oidRE.MatchString(to) {
		return nil, fmt.Errorf("gitstore: diff: %q / %q are not object IDs", from, to)
	}
	if from == "" {
		out, err := s.git.run(ctx, dir, strings.NewReader(""), "hash-object", "-t", "tree", "--stdin")
		if err != nil {
			return nil, err
		}
		from = strings.TrimSpace(string(out))
	}
	args := append(append([]string(nil), diffArgs...), "--raw", "--numstat", "-z")
	if !stat {
		// The patch follows the summary after an empty record.
		args = append(args, "--patch", "-U3")
	}
	out, cut, err := s.git.runLimited(ctx, dir, MaxDiffBytes, append(args, from, to, "--")...)
	if err != nil {
		return nil, err
	}
	summary, patch, _ := bytes.Cut(out, []byte("\x00\x00"))
	d := &Diff{Truncated: cut}
	if d.Files, err = parseSummary(summary, MaxDiffFiles); err != nil && !cut {
		return nil, err
	}
	if len(d.Files) >= MaxDiffFiles {
		d.Truncated = true
	}
	if stat {
		return d, nil
	}
	hunks, complete, err := ParsePatch(patch, MaxDiffLines)
	if err != nil && !cut {
		return nil, fmt.Errorf("gitstore: diff: %w", err)
	}
	d.Truncated = d.Truncated || cut || !complete
	if len(hunks) > len(d.Files) && !d.Truncated {
		return nil, fmt.Errorf("gitstore: diff: %d files in the patch, %d in the summary", len(hunks), len(d.Files))
	}
	for i := range min(len(hunks), len(d.Files)) {
		d.Files[i].Hunks = hunks[i]
	}
	return d, nil
}

// runLimited runs git and returns at most max bytes of its standard
// output; when there is more, it stops git and reports cut.
func (g *Git) runLimited(ctx context.Context, dir string, max int, args ...string) (out []byte, cut bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := g.command(ctx, dir, args...)
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stderr = stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, false, fmt.Errorf("gitstore: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("gitstore: %w", err)
	}
	out, rerr := io.ReadAll(io.LimitReader(pipe, int64(max)+1))
	if len(out) > max {
		out, cut = out[:max], true
		cancel()
	}
	werr := cmd.Wait()
	switch {
	case cut:
		return out, true, nil
	case rerr != nil:
		return nil, false, fmt.Errorf("gitstore: read git %s: %w", args[0], rerr)
	case werr != nil:
		return nil, false, gitError(args, werr, stderr)
	}
	return out, false, nil
}

// parseSummary reads the output of git diff --raw --numstat -z: one raw
// record per file (":modes oids STATUS\0path\0", two paths for a rename
// or copy), then one numstat record per file in the same order
// ("added\tdeleted\tpath\0", or "added\tdeleted\t\0old\0new\0"; "-" for
// binary files). It keeps at most maxFiles files.
func parseSummary(data []byte, maxFiles int) ([]FileDiff, error) {
	tok := strings.Split(string(data), "\x00")
	if n := len(tok); n > 0 && tok[n-1] == "" {
		tok = tok[:n-1]
	}
	var files []FileDiff
	i := 0
	next := func() (string, bool) {
		if i >= len(tok) {
			return "", false
		}
		i++
		return tok[i-1], true
	}
	for i < len(tok) && strings.HasPrefix(tok[i], ":") {
		rec, _ := next()
		f := strings.Fields(rec)
		if len(f) != 5 || f[4] == "" {
			return files, fmt.Errorf("gitstore: diff: bad raw record %q", rec)
		}
		fd := FileDiff{}
		switch f[4][0] {
		case 'A':
			fd.Status = "added"
		case 'D':
			fd.Status = "deleted"
		case 'R':
			fd.Status = "renamed"
		case 'C':
			fd.Status = "copied"
		default:
			fd.Status = "modified"
		}
		if fd.Status == "renamed" || fd.Status == "copied" {
			old, ok1 := next()
			p, ok2 := next()
			if !ok1 || !ok2 {
				return files, fmt.Errorf("gitstore: diff: raw record %q without its paths", rec)
			}
			fd.OldPath, fd.Path = old, p
		} else {
			p, ok := next()
			if !ok {
				return files, fmt.Errorf("gitstore: diff: raw record %q without its path", rec)
			}
			fd.Path = p
		}
		if len(files) < maxFiles {
			files = append(files, fd)
		}
	}
	for n := 0; i < len(tok); n++ {
		rec, _ := next()
		f := strings.SplitN(rec, "\t", 3)
		if len(f) != 3 {
			return files, fmt.Errorf("gitstore: diff: bad numstat record %q", rec)
		}
		if f[2] == "" { // a rename: the two paths follow
			if _, ok := next(); !ok {
				return files, fmt.Errorf("gitstore: diff: numstat record %q without its paths", rec)
			}
			if _, ok := next(); !ok {
				return files, fmt.Errorf("gitstore: diff: numstat record %q without its paths", rec)
			}
		}
		if n >= len(files) {
			continue
		}
		if f[0] == "-" && f[1] == "-" {
			files[n].Binary = true
			continue
		}
		a, err1 := strconv.Atoi(f[0])
		d, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil || a < 0 || d < 0 {
			return files, fmt.Errorf("gitstore: diff: bad numstat record %q", rec)
		}
		files[n].Added, files[n].Deleted = a, d
	}
	return files, nil
}

// ParsePatch parses git's unified diff output into the hunks of each
// file, in the order of the "diff --git" headers. It keeps at most
// maxLines hunk lines in all; complete is false when it stopped there or
// the input ends inside a hunk. On malformed input it returns what it
// parsed before the error.
func ParsePatch(data []byte, maxLines int) (files [][]Hunk, complete bool, err error) {
	lines := strings.Split(string(data), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	kept := 0
	inFile := false
	for i := 0; i < len(lines); {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "diff --git "):
			files = append(files, nil)
			inFile = true
			i++
		case !inFile:
			return files, false, fmt.Errorf("line %d: %q before the first file header", i+1, clip(l))
		case strings.HasPrefix(l, "@@ "):
			h, err := parseHunkHeader(l)
			if err != nil {
				return files, false, fmt.Errorf("line %d: %w", i+1, err)
			}
			i++
			oldN, newN := h.OldStart, h.NewStart
			for oldLeft, newLeft := h.OldLines, h.NewLines; oldLeft > 0 || newLeft > 0; i++ {
				if i >= len(lines) {
					return files, false, nil // cut inside a hunk
				}
				t := lines[i]
				kind := byte(' ')
				if t != "" {
					kind = t[0]
					t = t[1:]
				}
				ln := Line{Kind: kind, Text: t}
				switch kind {
				case ' ':
					if oldLeft == 0 || newLeft == 0 {
						return files, false, fmt.Errorf("line %d: context line beyond the hunk's counts", i+1)
					}
					ln.Old, ln.New = oldN, newN
					oldN, newN, oldLeft, newLeft = oldN+1, newN+1, oldLeft-1, newLeft-1
				case '-':
					if oldLeft == 0 {
						return files, false, fmt.Errorf("line %d: deleted line beyond the hunk's count", i+1)
					}
					ln.Old = oldN
					oldN, oldLeft = oldN+1, oldLeft-1
				case '+':
					if newLeft == 0 {
						return files, false, fmt.Errorf("line %d: added line beyond the hunk's count", i+1)
					}
					ln.New = newN
					newN, newLeft = newN+1, newLeft-1
				case '\\': // "\ No newline at end of file"
					continue
				default:
					return files, false, fmt.Errorf("line %d: %q inside a hunk", i+1, clip(lines[i]))
				}
				if kept >= maxLines {
					return files, false, nil
				}
				kept++
				h.Lines = append(h.Lines, ln)
			}
			files[len(files)-1] = append(files[len(files)-1], h)
		case len(files[len(files)-1]) > 0 && !strings.HasPrefix(l, `\`):
			return files, false, fmt.Errorf("line %d: %q after a hunk", i+1, clip(l))
		default: // extended header lines, "Binary files … differ", "\ No newline"
			i++
		}
	}
	return files, true, nil
}

// parseHunkHeader reads "@@ -a[,b] +c[,d] @@ …".
func parseHunkHeader(l string) (Hunk, error) {
	h := Hunk{Header: l}
	rest, ok := strings.CutPrefix(l, "@@ -")
	if !ok {
		return h, fmt.Errorf("bad hunk header %q", clip(l))
	}
	ranges, _, ok := strings.Cut(rest, " @@")
	if !ok {
		return h, fmt.Errorf("bad hunk header %q", clip(l))
	}
	old, nw, ok := strings.Cut(ranges, " +")
	if !ok {
		return h, fmt.Errorf("bad hunk header %q", clip(l))
	}
	var err1, err2 error
	h.OldStart, h.OldLines, err1 = parseRange(old)
	h.NewStart, h.NewLines, err2 = parseRange(nw)
	if err1 != nil || err2 != nil {
		return h, fmt.Errorf("bad hunk header %q", clip(l))
	}
	return h, nil
}

// maxHunkLine bounds the numbers of a hunk header, so that line numbers
// never overflow.
const maxHunkLine = 1 << 30

func parseRange(s string) (start, n int, err error) {
	a, b, hasCount := strings.Cut(s, ",")
	n = 1
	if start, err = strconv.Atoi(a); err != nil {
		return 0, 0, err
	}
	if hasCount {
		if n, err = strconv.Atoi(b); err != nil {
			return 0, 0, err
		}
	}
	if start < 0 || n < 0 || start > maxHunkLine || n > maxHunkLine {
		return 0, 0, fmt.Errorf("range %q out of bounds", s)
	}
	return start, n, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
