package storage

import "github.com/cockroachdb/pebble/v2"

// SetRawForTest writes a key as it is, to make inconsistent stores.
func SetRawForTest(s *Store, k, v []byte) error { return s.db.Set(k, v, pebble.Sync) }
