package gitstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// Request bounds on the serving side. A fetch of a large history sends a
// few thousand "have" lines per round; these leave room for that and
// stop a peer from making the filter buffer without limit.
const (
	maxRequestPkts  = 1 << 16
	maxRequestBytes = 8 << 20
	maxWants        = 1 << 14
	wantsPerCheck   = 512 // wants per git rev-list run
)

// RequestTimeout bounds the wait for a peer's next request when the
// stream has read deadlines; a peer that stalls longer loses the session.
var RequestTimeout = 2 * time.Minute

// ErrRefused is matched by the error of a session whose peer asked for
// something this node does not serve.
var ErrRefused = errors.New("gitstore: request refused")

// ServeFetch serves one fetch session of the repository of name on rw:
// the peer's requests are read and checked (see the package
// documentation) and passed to git upload-pack, whose output goes to rw
// unchanged. It returns when the peer ends the session, the request
// stream fails or ctx is done, and closes rw. A refused request ends the
// session with a git "ERR" packet that the peer's git prints.
func (s *Store) ServeFetch(ctx context.Context, name string, rw io.ReadWriteCloser) error {
	defer rw.Close()
	dir, err := s.existing(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := s.git.command(ctx, dir, "upload-pack", "--strict", ".")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("gitstore: %w", err)
	}
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = rw, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("gitstore: start git upload-pack: %w", err)
	}

	filterErr := make(chan error, 1)
	var filterFailed atomic.Bool // set before the filter cancels ctx
	go func() {
		defer stdin.Close()
		err := s.filterRequests(ctx, dir, rw, stdin)
		if err != nil && !errors.Is(err, io.EOF) {
			filterFailed.Store(true)
			cancel() // stop upload-pack: the session is over
		}
		filterErr <- err
	}()
	waitErr := cmd.Wait()
	var ferr error
	if filterFailed.Load() {
		ferr = <-filterErr // it is sending now
	} else {
		select {
		case ferr = <-filterErr:
		default:
			// upload-pack ended first (the peer's request was its last,
			// or ctx is done): unblock the filter's read, whose error is
			// then ours, not the peer's.
			_ = rw.Close()
			<-filterErr
		}
	}
	switch {
	case errors.Is(ferr, ErrRefused) || errors.Is(ferr, ErrMalformed):
		_, _ = io.WriteString(rw, pktLine("ERR "+ferr.Error()+"\n"))
		return ferr
	case ferr != nil && !errors.Is(ferr, io.EOF):
		return fmt.Errorf("gitstore: read request: %w", ferr)
	case waitErr != nil && ctx.Err() == nil:
		return gitError([]string{"upload-pack"}, waitErr, stderr)
	}
	return ctx.Err()
}

// filterRequests copies requests from r to w, one whole request at a
// time, after checking each. It returns io.EOF when the peer ends the
// session.
func (s *Store) filterRequests(ctx context.Context, dir string, rw io.Reader, w io.Writer) error {
	r := bufio.NewReader(rw)
	dl, _ := rw.(interface{ SetReadDeadline(time.Time) error })
	for {
		if dl != nil {
			_ = dl.SetReadDeadline(time.Now().Add(RequestTimeout))
		}
		req, err := readRequest(r)
		if err != nil {
			return err
		}
		if err := s.checkRequest(ctx, dir, req); err != nil {
			return err
		}
		if _, err := w.Write(req.raw); err != nil {
			return io.EOF // upload-pack has exited
		}
		if req.command == "" {
			return io.EOF // a lone flush ends the session
		}
	}
}

// request is one protocol v2 request.
type request struct {
	command string   // "" for a lone flush
	caps    []string // capability lines
	args    []string // argument lines
	raw     []byte
}

// readRequest reads one request: a command line, capability lines, a
// delimiter and argument lines, up to a flush.
func readRequest(r *bufio.Reader) (request, error) {
	var req request
	section := 0 // 0 command, 1 capabilities, 2 arguments
	for n := 0; ; n++ {
		if n == maxRequestPkts || len(req.raw) > maxRequestBytes {
			return req, fmt.Errorf("%w: request over %d packets or %d bytes", ErrRefused, maxRequestPkts, maxRequestBytes)
		}
		p, err := readPkt(r)
		if err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: session ended inside a request", ErrMalformed)
			}
			return req, err
		}
		req.raw = append(req.raw, p.raw...)
		switch {
		case p.special == pktFlush:
			return req, nil
		case p.special == pktDelim && section == 1:
			section = 2
		case p.special >= 0:
			return req, fmt.Errorf("%w: unexpected special packet %04d", ErrMalformed, p.special)
		case section == 0:
			cmd, ok := strings.CutPrefix(p.text(), "command=")
			if !ok {
				return req, fmt.Errorf("%w: request starts with %.40q, want command=", ErrMalformed, p.text())
			}
			req.command, section = cmd, 1
		case section == 1:
			req.caps = append(req.caps, p.text())
		default:
			req.args = append(req.args, p.text())
		}
	}
}

// Allowed request contents, by prefix (a trailing space or '=' takes a
// value).
var (
	allowedCaps = []string{"agent=", "object-format=", "session-id="}
	allowedArgs = map[string][]string{
		"ls-refs": {"peel", "symrefs", "unborn", "ref-prefix "},
		"fetch": {"want ", "want-ref ", "have ", "done", "thin-pack", "no-progress", "include-tag",
			"ofs-delta", "wait-for-done", "sideband-all", "shallow ", "deepen ", "deepen-relative",
			"deepen-since ", "deepen-not "},
	}
)

func allowed(line string, prefixes []string) bool {
	for _, p := range prefixes {
		if line == p || (strings.HasSuffix(p, " ") || strings.HasSuffix(p, "=")) && strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// checkRequest refuses commands other than ls-refs and fetch, unknown
// arguments, and wants of objects not reachable from a ref.
func (s *Store) checkRequest(ctx context.Context, dir string, req request) error {
	if req.command == "" {
		return nil
	}
	argPrefixes, ok := allowedArgs[req.command]
	if !ok {
		return fmt.Errorf("%w: command %.40q is not served", ErrRefused, req.command)
	}
	for _, c := range req.caps {
		if !allowed(c, allowedCaps) {
			return fmt.Errorf("%w: capability %.60q is not served", ErrRefused, c)
		}
	}
	var wants []string
	for _, a := range req.args {
		if !allowed(a, argPrefixes) {
			return fmt.Errorf("%w: %s argument %.60q is not served", ErrRefused, req.command, a)
		}
		if oid, ok := strings.CutPrefix(a, "want "); ok {
			if !oidRE.MatchString(oid) {
				return fmt.Errorf("%w: want %.80q is not an object ID", ErrMalformed, oid)
			}
			wants = append(wants, oid)
		}
	}
	if len(wants) > maxWants {
		return fmt.Errorf("%w: %d wants in one request, limit %d", ErrRefused, len(wants), maxWants)
	}
	for len(wants) > 0 {
		n := min(len(wants), wantsPerCheck)
		if err := s.checkReachable(ctx, dir, wants[:n]); err != nil {
			return err
		}
		wants = wants[n:]
	}
	return nil
}

// checkReachable fails unless every want is reachable from a ref:
// nothing is listed by "rev-list wants --not --all" exactly when that
// holds, and rev-list fails for an object it does not hold.
func (s *Store) checkReachable(ctx context.Context, dir string, wants []string) error {
	args := append([]string{"rev-list", "--max-count=1"}, wants...)
	args = append(args, "--not", "--all")
	out, err := s.git.run(ctx, dir, nil, args...)
	if err != nil {
		return fmt.Errorf("%w: wants an object this node does not hold: %v", ErrRefused, err)
	}
	if c := strings.TrimSpace(string(out)); c != "" {
		return fmt.Errorf("%w: commit %s is not reachable from any ref this node serves", ErrRefused, c)
	}
	return nil
}

// pktLine encodes s as one pkt-line.
func pktLine(s string) string {
	if len(s)+4 > maxPktLen {
		s = s[:maxPktLen-4]
	}
	return fmt.Sprintf("%04x%s", len(s)+4, s)
}
