package attach

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

func TestHome(t *testing.T) {
	abs, _ := filepath.Abs("rel")
	for _, tc := range []struct {
		flag string
		env  map[string]string
		want string
	}{
		{"/flag", map[string]string{"MURMUR_HOME": "/m"}, "/flag"},
		{"", map[string]string{"MURMUR_HOME": "/m", "XDG_DATA_HOME": "/x"}, "/m"},
		{"", map[string]string{"MURMUR_HOME": "rel"}, abs},
		{"", map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/h"}, "/x/murmur"},
		{"", map[string]string{"XDG_DATA_HOME": "relative", "HOME": "/h"}, "/h/.local/share/murmur"},
	} {
		got, err := Home(tc.flag, func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("Home(%q, %v) = %q, %v; want %q", tc.flag, tc.env, got, err, tc.want)
		}
	}
}

func TestMesh(t *testing.T) {
	none := func(string) string { return "" }
	for _, tc := range []struct {
		peers []string
		want  string
	}{
		{nil, "0.0.0.0:0"},
		{[]string{"127.0.0.1:7788", "localhost:1", "did:key:z6Mk/[::1]:7788"}, "127.0.0.1:0"},
		{[]string{"127.0.0.1:7788", "192.0.2.7:7788"}, "0.0.0.0:0"},
	} {
		if got := Mesh(none, tc.peers); got.Listen != tc.want || !got.Manual {
			t.Errorf("Mesh(%v) = %+v, want manual, listening on %s", tc.peers, got, tc.want)
		}
	}
	env := func(k string) string { return map[string]string{"MURMUR_LISTEN": "127.0.0.1:9"}[k] }
	if got := Mesh(env, nil).Listen; got != "127.0.0.1:9" {
		t.Errorf("Mesh with MURMUR_LISTEN: listen %s", got)
	}
}

func TestNodeEmbedded(t *testing.T) {
	home := t.TempDir()
	att, err := Node(context.Background(), Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if !att.Embedded() {
		t.Error("with no daemon the node runs in this process")
	}
	// A second attach meanwhile reaches the first through its socket.
	other, err := Node(context.Background(), Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if other.Embedded() {
		t.Error("a second attach opened the store beside the first")
	}
	if err := other.Close(); err != nil {
		t.Error(err)
	}
	if err := att.Close(); err != nil {
		t.Error(err)
	}
}

func ExampleSplitPeers() {
	fmt.Println(SplitPeers(" a:7788, ,b "))
	// Output: [a:7788 b]
}
