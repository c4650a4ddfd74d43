package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// netns is a network namespace made for one test.
type netns struct{ name string }

// lanPair makes two network namespaces joined by a veth pair (one
// Ethernet segment, 10.77.0.1 and 10.77.0.2), or skips the test where
// that is not allowed. The namespaces are deleted at the end.
func lanPair(t *testing.T) (a, b netns) {
	t.Helper()
	ip, err := exec.LookPath("ip")
	if err != nil || os.Geteuid() != 0 {
		t.Skipf("skipping: needs root and the ip command (iproute2) for network namespaces")
	}
	suffix := fmt.Sprintf("%d", os.Getpid()%100000)
	a, b = netns{"mmr-a" + suffix}, netns{"mmr-b" + suffix}
	run := func(args ...string) error {
		out, err := exec.Command(ip, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("netns", "add", a.name); err != nil {
		t.Skipf("skipping: cannot make a network namespace here: %v", err)
	}
	t.Cleanup(func() { _ = run("netns", "del", a.name) })
	if err := run("netns", "add", b.name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run("netns", "del", b.name) })
	va, vb := "va"+suffix, "vb"+suffix
	steps := [][]string{
		{"link", "add", va, "type", "veth", "peer", "name", vb},
		{"link", "set", va, "netns", a.name},
		{"link", "set", vb, "netns", b.name},
		{"-n", a.name, "addr", "add", "10.77.0.1/24", "dev", va},
		{"-n", b.name, "addr", "add", "10.77.0.2/24", "dev", vb},
		{"-n", a.name, "link", "set", "lo", "up"},
		{"-n", b.name, "link", "set", "lo", "up"},
		{"-n", a.name, "link", "set", va, "up", "multicast", "on"},
		{"-n", b.name, "link", "set", vb, "up", "multicast", "on"},
		{"-n", a.name, "route", "add", "default", "dev", va},
		{"-n", b.name, "route", "add", "default", "dev", vb},
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

// serveIn starts murmur serve for c inside ns and waits until it is ready.
func serveIn(t *testing.T, c *cli, ns netns, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, c: c, addr: ns.name}
	t.Cleanup(func() { d.kill() })
	d.cmd = c.command(context.Background(), "", append([]string{"serve", "--log", "debug"}, args...)...)
	ip, _ := exec.LookPath("ip")
	d.cmd.Path = ip
	d.cmd.Args = append([]string{"ip", "netns", "exec", ns.name, c.bin}, d.cmd.Args[1:]...)
	d.logs = &syncBuffer{}
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.done = make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	eventually(t, "serve in "+ns.name+" ready", 20*time.Second, func() error {
		select {
		case <-d.done:
			t.Fatalf("murmur serve in %s exited:\n%s", ns.name, d.logs)
		default:
		}
		if !strings.Contains(d.logs.String(), "msg=ready") {
			return fmt.Errorf("not ready:\n%s", d.logs)
		}
		return nil
	})
	return d
}

// Two nodes on one network segment find each other with no --join and
// replicate: B follows A's repo by ID and gets its issue.
func TestE2ELANDiscovery(t *testing.T) {
	nsA, nsB := lanPair(t)
	a, b := newCLI(t, t.TempDir()), newCLI(t, t.TempDir())
	repo := strings.TrimSpace(a.ok("repo", "create", "lan", "--json", "--jq", ".id"))
	a.ok("issue", "create", "-R", repo, "-t", "Found over the LAN")

	da := serveIn(t, a, nsA, "--listen", "10.77.0.1:7788", "--lan-discovery")
	db := serveIn(t, b, nsB, "--listen", "10.77.0.2:7788", "--lan-discovery")
	eventually(t, "b to find a on the LAN", 30*time.Second, func() error {
		if !strings.Contains(db.logs.String(), "found a peer on the local network") {
			return fmt.Errorf("no discovery yet:\n%s", db.logs)
		}
		return nil
	})
	b.ok("repo", "follow", repo)
	eventually(t, "b to get a's issue", 30*time.Second, func() error {
		out, err := b.jsonOf("issue", "list", "-R", repo, "--json", "title")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "Found over the LAN") {
			return fmt.Errorf("b lists %s", out)
		}
		return nil
	})
	st := b.ok("status", "--json")
	if !strings.Contains(st, "10.77.0.1") {
		t.Errorf("b's status does not show a's LAN address:\n%s", st)
	}
	da.stop()
	db.stop()
}
