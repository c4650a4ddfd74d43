package gitremote

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"murmur/api"
)

// pushTarget is what a pusher's refs are listed against: the repo and
// whose refs its pushes move.
type pushTarget struct {
	repo  api.Repo
	token string // the pusher's namespace token; "" for a maintainer
}

// pushRepo reaches the node offline and finds the repo and the pusher.
func (h *Helper) pushRepo(ctx context.Context, target string) (*Node, pushTarget, error) {
	n, err := h.connect(ctx, false)
	if err != nil {
		return nil, pushTarget{}, err
	}
	r, err := h.repo(ctx, n, target, false)
	if err != nil {
		return nil, pushTarget{}, err
	}
	me, err := n.Identity(ctx)
	if err != nil {
		return nil, pushTarget{}, err
	}
	pt := pushTarget{repo: r, token: api.NamespaceToken(me.ID)}
	for _, m := range r.Maintainers {
		if m.ID == me.ID {
			pt.token = ""
		}
	}
	return n, pt, nil
}

// visible returns the refs a push is compared against: the canonical refs
// for a maintainer, else the pusher's own namespace without its prefix.
func (pt pushTarget) visible(refs []api.Ref) map[string]string {
	out := map[string]string{}
	for _, r := range refs {
		if token, name := owner(r); token == pt.token && r.Commit != "" && strings.HasPrefix(name, "refs/") {
			out[name] = r.Commit
		}
	}
	return out
}

// list answers "list" and "list for-push": one "<commit> <ref>" line per
// ref, and for a fetch the default branch as HEAD.
func (h *Helper) list(ctx context.Context, target string, w io.Writer, forPush bool) error {
	n, pt, err := h.pushRepo(ctx, target)
	if err != nil {
		return err
	}
	if !forPush {
		pt.token = ""
	}
	refs, err := n.Refs(ctx, pt.repo.ID)
	if err != nil {
		return err
	}
	vis := pt.visible(refs)
	for _, name := range slices.Sorted(maps.Keys(vis)) {
		fmt.Fprintf(w, "%s %s\n", vis[name], name)
	}
	if head := "refs/heads/" + pt.repo.DefaultBranch; !forPush && vis[head] != "" {
		fmt.Fprintf(w, "@%s HEAD\n", head)
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// push is one "push [+]<src>:<dst>" line.
type push struct {
	src, dst string
	force    bool
}

func parsePush(line string) (push, error) {
	spec, ok := strings.CutPrefix(line, "push ")
	if !ok {
		return push{}, fmt.Errorf("git sent %q inside a push batch", line)
	}
	var p push
	spec, p.force = strings.CutPrefix(spec, "+")
	p.src, p.dst, ok = strings.Cut(spec, ":")
	if !ok || p.dst == "" {
		return push{}, fmt.Errorf("git sent the refspec %q, which has no destination", spec)
	}
	return p, nil
}

// pushBatch reads the push lines up to the empty line that ends the batch,
// pushes each ref through the node and reports on each.
func (h *Helper) pushBatch(ctx context.Context, target, first string, br *bufio.Reader, w io.Writer) error {
	var pushes []push
	for line := first; line != ""; {
		p, err := parsePush(line)
		if err != nil {
			return err
		}
		if len(pushes) == maxPushes {
			return fmt.Errorf("git sent more than %d refs in one push; push fewer at a time", maxPushes)
		}
		pushes = append(pushes, p)
		if line, err = readLine(br); err != nil {
			return fmt.Errorf("read the push batch: %w", err)
		}
	}
	n, pt, err := h.pushRepo(ctx, target)
	if err != nil {
		return err
	}
	for _, p := range pushes {
		if why := h.pushOne(ctx, n, pt, p); why != "" {
			fmt.Fprintf(w, "error %s %s\n", p.dst, why)
		} else {
			fmt.Fprintf(w, "ok %s\n", p.dst)
		}
	}
	if n.Embedded && !h.dryRun {
		h.warn("the push is recorded on this machine; no 'murmur serve' runs here, so peers get it with the next 'murmur sync' or when the daemon runs")
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// nonFastForward is the status git's remote-helper protocol gives a
// refused non-fast-forward update (transport-helper.c); other text shows
// as "[remote rejected]".
const nonFastForward = "non-fast forward"

// pushOne pushes one ref and returns why it failed ("" when it did not).
func (h *Helper) pushOne(ctx context.Context, n *Node, pt pushTarget, p push) string {
	commit := ""
	if p.src != "" {
		c, err := h.git(ctx, "rev-parse", "--verify", "--end-of-options", p.src+"^{commit}")
		if err != nil {
			return fmt.Sprintf("%s does not name a commit here", p.src)
		}
		commit = c
	}
	if h.dryRun {
		return ""
	}
	_, err := n.PushRefs(ctx, pt.repo.ID, api.RefPush{
		Dir:       h.GitDir,
		Refs:      map[string]string{p.dst: commit},
		Force:     p.force,
		Namespace: api.NamespaceAuto,
	})
	if err == nil {
		return ""
	}
	if api.ErrorCode(err) == api.CodeConflict {
		// The node refuses a non-fast-forward without Force with this
		// code. git's helper protocol spells it "non-fast forward"; git
		// then shows its usual "[rejected] (non-fast-forward)".
		return nonFastForward
	}
	return oneLine(err.Error())
}
