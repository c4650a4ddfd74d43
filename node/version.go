package node

import (
	"murmur/mesh"
	"murmur/storage"
)

// Versions are the formats this build speaks, for `murmur version` and
// status displays.
type Versions struct {
	Protocol    uint16 // mesh protocol version it speaks best
	MinProtocol uint16 // oldest mesh protocol version it still speaks
	StoreFormat int    // on-disk store format it writes
}

// BuildVersions returns the formats of this build.
func BuildVersions() Versions {
	return Versions{Protocol: mesh.ProtocolVersion, MinProtocol: mesh.MinProtocolVersion, StoreFormat: storage.FormatVersion}
}
