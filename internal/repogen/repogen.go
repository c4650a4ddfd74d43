// Package repogen writes git repositories with a realistic history for
// benchmarks and tests of code transfer. A history is a pure function of
// its Options: the same seed and size give the same commit hashes on
// every machine, because every byte of every commit (contents, authors,
// dates, messages) comes from a seeded PCG and the history is written
// with git fast-import.
//
// The shape follows a typical source tree: a few hundred text files in a
// handful of directories, most commits touching one to five files with
// small edits to existing lines, some files added, deleted and renamed,
// and a few large files (fixtures, a vendored bundle, a changelog) that
// grow now and then.
//
// It imports nothing of murmur; it runs the git program.
package repogen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// Options describe a history. The zero value means the defaults.
type Options struct {
	// Commits is the number of commits on the branch. Default 10,000.
	Commits int
	// Seed chooses the history; the same seed gives the same hashes.
	Seed uint64
	// Branch is the branch the history is written to. Default "main".
	Branch string
}

// Shape of a history.
const (
	defaultCommits = 10_000
	initialFiles   = 240        // files of the first commit
	minFiles       = 150        // deletions stop below this many files
	bigEvery       = 97         // every so many commits one large file grows
	startTime      = 1600000000 // the first commit's time, Unix seconds
)

var (
	dirs = []string{"cmd/server", "cmd/tool", "internal/store", "internal/net", "internal/auth",
		"pkg/api", "pkg/codec", "web/static", "docs", "scripts"}
	exts = map[string]string{"docs": ".md", "web/static": ".js", "scripts": ".sh"}

	// bigFiles are the large files and their lines in the first commit.
	bigFiles = []struct {
		path  string
		lines int
	}{{"testdata/fixtures.json", 12_000}, {"third_party/bundle.js", 20_000}, {"CHANGELOG.md", 4_000}}

	words = strings.Fields(`the a of to in for on with from by at node peer repo ref commit
		tree blob pack fetch push sync merge patch issue review comment label state value
		key hash sign verify read write open close start stop error retry limit count size
		buffer stream conn session store index cache queue event clock time user path file
		line byte list map set get put add remove update check parse encode decode return
		if else err nil true false len make append range func type struct var const`)
	authors = []string{"Ada Byron <ada@example.org>", "Brian Kern <bk@example.org>",
		"Chen Wei <chen@example.org>", "Dana Scully <dana@example.org>", "Emeka Obi <emeka@example.org>",
		"Farah Haddad <farah@example.org>", "Grace Hopper <grace@example.org>", "Hiro Tanaka <hiro@example.org>",
		"Ines Duarte <ines@example.org>", "Jonas Berg <jonas@example.org>", "Kavya Rao <kavya@example.org>",
		"Luis Ortega <luis@example.org>"}
	verbs = []string{"fix", "add", "remove", "rename", "document", "simplify", "test", "speed up", "refactor", "handle"}
)

// Generate makes dir a git working copy whose branch holds the history of
// o, packed in one pack, checks it out, and returns the head commit's
// hash. dir must not
// exist or be empty.
func Generate(ctx context.Context, dir string, o Options) (string, error) {
	if o.Commits <= 0 {
		o.Commits = defaultCommits
	}
	if o.Branch == "" {
		o.Branch = "main"
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return "", fmt.Errorf("repogen: %s is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("repogen: %w", err)
	}
	if _, err := Git(ctx, dir, "init", "-q", "-b", o.Branch); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "git", "fast-import", "--quiet", "--done")
	cmd.Dir = dir
	cmd.Env = gitEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", fmt.Errorf("repogen: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("repogen: git fast-import: %w", err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	werr := newHistory(o).write(w)
	if werr == nil {
		werr = w.Flush()
	}
	_ = in.Close()
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("repogen: git fast-import: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if werr != nil {
		return "", fmt.Errorf("repogen: write the history: %w", werr)
	}
	// fast-import deltas each blob against the one written before it,
	// whatever its path; a repository that people work in has been
	// repacked, with deltas between versions of a file.
	if _, err := Git(ctx, dir, "repack", "-a", "-d", "-f", "-q"); err != nil {
		return "", err
	}
	if _, err := Git(ctx, dir, "reset", "-q", "--hard"); err != nil {
		return "", err
	}
	return Git(ctx, dir, "rev-parse", "HEAD")
}

// Git runs git in dir with a fixed identity and no user configuration,
// and returns its trimmed standard output.
func Git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv()
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("repogen: git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("repogen: git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// gitEnv is the environment git runs in: no global or system
// configuration, so that the host's settings change nothing.
func gitEnv() []string {
	return append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=repogen", "GIT_AUTHOR_EMAIL=repogen@example.org",
		"GIT_COMMITTER_NAME=repogen", "GIT_COMMITTER_EMAIL=repogen@example.org")
}

// history is the state of the tree while commits are written.
type history struct {
	o     Options
	rnd   *rand.Rand
	paths []string            // live files, in creation order
	files map[string][]string // path → lines
	when  int64               // time of the last commit
	next  int                 // number for the next new file name
}

func newHistory(o Options) *history {
	return &history{o: o, rnd: rand.New(rand.NewPCG(o.Seed, 0x6d75726d7572)), files: map[string][]string{}, when: startTime}
}

// write writes the fast-import stream of the whole history to w.
func (h *history) write(w io.Writer) error {
	for i := range h.o.Commits {
		var c change
		if i == 0 {
			c = h.first()
		} else {
			c = h.step(i)
		}
		if err := h.emit(w, c); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "done\n")
	return err
}

// change is one commit: files written (in order), deleted and renamed.
type change struct {
	msg     string
	write   []string
	del     []string
	renames [][2]string
}

// first creates the initial tree.
func (h *history) first() change {
	c := change{msg: "initial import"}
	for range initialFiles {
		c.write = append(c.write, h.newFile())
	}
	for _, b := range bigFiles {
		h.files[b.path] = h.lines(b.lines)
		h.paths = append(h.paths, b.path)
		c.write = append(c.write, b.path)
	}
	return c
}

// step makes commit i: usually small edits to one to five files,
// sometimes a file added, deleted or renamed, now and then a large file
// grown.
func (h *history) step(i int) change {
	var c change
	switch r := h.rnd.IntN(1000); {
	case r < 20:
		p := h.newFile()
		c.write = append(c.write, p)
		c.msg = "add " + p
	case r < 32 && len(h.paths) > minFiles:
		p := h.pick()
		if h.isBig(p) {
			break
		}
		h.remove(p)
		c.del = append(c.del, p)
		c.msg = "remove " + p
	case r < 44:
		from := h.pick()
		if h.isBig(from) {
			break
		}
		to := h.freshPath()
		h.remove(from)
		h.files[to] = h.files[from]
		delete(h.files, from)
		h.paths = append(h.paths, to)
		c.renames = append(c.renames, [2]string{from, to})
		c.msg = "move " + from + " to " + to
		// A move often comes with an edit, which git still sees as a
		// rename.
		h.edit(to)
		c.write = append(c.write, to)
	}
	if c.msg == "" {
		n := []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 5}[h.rnd.IntN(20)]
		for range n {
			p := h.pick()
			if h.isBig(p) || slices.Contains(c.write, p) {
				continue
			}
			h.edit(p)
			c.write = append(c.write, p)
		}
		if len(c.write) == 0 {
			p := h.paths[0]
			h.edit(p)
			c.write = append(c.write, p)
		}
		c.msg = verbs[h.rnd.IntN(len(verbs))] + " " + c.write[0]
	}
	if i%bigEvery == 0 {
		b := bigFiles[h.rnd.IntN(len(bigFiles))].path
		h.files[b] = append(h.files[b], h.lines(5+h.rnd.IntN(40))...)
		h.edit(b)
		c.write = append(c.write, b)
	}
	return c
}

func (h *history) isBig(p string) bool {
	for _, b := range bigFiles {
		if b.path == p {
			return true
		}
	}
	return false
}

// pick chooses a live file, favouring a hot set as real histories do.
func (h *history) pick() string {
	u := h.rnd.Float64()
	return h.paths[int(u*u*u*float64(len(h.paths)))]
}

func (h *history) remove(p string) {
	h.paths = slices.DeleteFunc(h.paths, func(q string) bool { return q == p })
}

// freshPath names a file that does not exist yet.
func (h *history) freshPath() string {
	d := dirs[h.rnd.IntN(len(dirs))]
	ext, ok := exts[d]
	if !ok {
		ext = ".go"
	}
	h.next++
	return d + "/" + words[h.rnd.IntN(len(words))] + "_" + strconv.Itoa(h.next) + ext
}

// newFile adds a file of 20 to 320 lines and returns its path.
func (h *history) newFile() string {
	p := h.freshPath()
	h.files[p] = h.lines(20 + h.rnd.IntN(300))
	h.paths = append(h.paths, p)
	return p
}

// edit changes one to three places in a file: lines replaced, inserted
// and deleted.
func (h *history) edit(p string) {
	ls := h.files[p]
	for range 1 + h.rnd.IntN(3) {
		at := h.rnd.IntN(len(ls) + 1)
		del := min(h.rnd.IntN(3), len(ls)-at)
		ins := h.lines(h.rnd.IntN(5))
		if del == 0 && len(ins) == 0 {
			ins = h.lines(1)
		}
		ls = slices.Replace(ls, at, at+del, ins...)
	}
	h.files[p] = ls
}

// lines returns n lines of code-like text.
func (h *history) lines(n int) []string {
	out := make([]string, n)
	var b strings.Builder
	for i := range out {
		b.Reset()
		b.WriteString(strings.Repeat("\t", h.rnd.IntN(4)))
		for j := range 2 + h.rnd.IntN(9) {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[h.rnd.IntN(len(words))])
		}
		out[i] = b.String()
	}
	return out
}

// emit writes one commit of the fast-import stream.
func (h *history) emit(w io.Writer, c change) error {
	h.when += 60 + h.rnd.Int64N(4*3600)
	author := authors[h.rnd.IntN(len(authors))]
	var b bytes.Buffer
	fmt.Fprintf(&b, "commit refs/heads/%s\n", h.o.Branch)
	fmt.Fprintf(&b, "author %s %d +0000\ncommitter %s %d +0000\n", author, h.when, author, h.when)
	fmt.Fprintf(&b, "data %d\n%s\n", len(c.msg)+1, c.msg)
	for _, r := range c.renames {
		fmt.Fprintf(&b, "R %s %s\n", r[0], r[1])
	}
	for _, p := range c.del {
		fmt.Fprintf(&b, "D %s\n", p)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	for _, p := range c.write {
		text := strings.Join(h.files[p], "\n") + "\n"
		if _, err := fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", p, len(text), text); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n")
	return err
}
