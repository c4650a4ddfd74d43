package discovery

import (
	"net"
	"net/netip"
	"testing"

	"github.com/hashicorp/mdns"

	"murmur/identity"
)

func newID(t *testing.T) identity.PublicKey {
	t.Helper()
	k, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}

func TestParseEntry(t *testing.T) {
	id := newID(t)
	good := func() *mdns.ServiceEntry {
		return &mdns.ServiceEntry{Port: 7788, AddrV4: net.IPv4(192, 0, 2, 7), InfoFields: []string{txtVersion, txtIDKey + id.DID()}}
	}
	p, ok := parseEntry(good())
	if !ok || p.ID != id || p.Addr != netip.MustParseAddrPort("192.0.2.7:7788") {
		t.Fatalf("parseEntry(good) = %+v, %v", p, ok)
	}
	bad := map[string]func(e *mdns.ServiceEntry){
		"no id":          func(e *mdns.ServiceEntry) { e.InfoFields = []string{txtVersion} },
		"bad id":         func(e *mdns.ServiceEntry) { e.InfoFields = []string{txtIDKey + "did:key:zNope"} },
		"oversize id":    func(e *mdns.ServiceEntry) { e.InfoFields = []string{txtIDKey + string(make([]byte, 4096))} },
		"no address":     func(e *mdns.ServiceEntry) { e.AddrV4 = nil },
		"zero port":      func(e *mdns.ServiceEntry) { e.Port = 0 },
		"port too big":   func(e *mdns.ServiceEntry) { e.Port = 70000 },
		"multicast addr": func(e *mdns.ServiceEntry) { e.AddrV4 = net.IPv4(224, 0, 0, 251) },
		"unspecified":    func(e *mdns.ServiceEntry) { e.AddrV4 = net.IPv4zero },
	}
	for name, mutate := range bad {
		e := good()
		mutate(e)
		if p, ok := parseEntry(e); ok {
			t.Errorf("%s: parseEntry accepted %+v", name, p)
		}
	}
	if _, ok := parseEntry(nil); ok {
		t.Error("parseEntry(nil) accepted")
	}
}
