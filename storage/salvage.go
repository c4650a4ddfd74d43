package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/batchrepr"
	"github.com/cockroachdb/pebble/v2/record"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Salvaged is what Salvage read from a store's files.
type Salvaged struct {
	// Ops are the encodings of every op found, stored or pending, not yet
	// verified, each once.
	Ops [][]byte
	// Local is the newest value of each local setting found.
	Local map[string][]byte
	// Unreadable lists the files, or the rest of a file, that could not
	// be read; what came before the damage in a file is kept.
	Unreadable []Finding
}

// Salvage reads the ops and local settings in the table (.sst) and log
// (.log) files of store directory dir directly, without the MANIFEST that
// says which of them are live: it is how a store that Pebble will not open
// is recovered. Ops are immutable, so every version found is kept; a local
// setting takes its newest version. Salvage only reads dir.
func Salvage(dir string) (*Salvaged, error) {
	fs := vfs.Default
	names, err := fs.List(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: salvage: %w", err)
	}
	slices.Sort(names)
	sv := &salvager{ops: map[string]struct{}{}, local: map[string]localVersion{}}
	popts := &pebble.Options{}
	popts.EnsureDefaults()
	for _, n := range names {
		path := filepath.Join(dir, n)
		switch {
		case strings.HasSuffix(n, ".sst"):
			err = sv.table(fs, path, popts.MakeReaderOptions())
		case strings.HasSuffix(n, ".log"):
			err = sv.log(fs, path)
		default:
			continue
		}
		if err != nil {
			msg := err.Error()
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
			sv.out.Unreadable = append(sv.out.Unreadable, Finding{Kind: "damaged", File: n, Detail: msg})
		}
	}
	sv.out.Local = map[string][]byte{}
	for k, v := range sv.local {
		if !v.deleted {
			sv.out.Local[k] = v.value
		}
	}
	return &sv.out, nil
}

type localVersion struct {
	seq     uint64
	value   []byte
	deleted bool
}

type salvager struct {
	out   Salvaged
	ops   map[string]struct{} // op encodings seen
	local map[string]localVersion
}

// add records one key version.
func (sv *salvager) add(kind pebble.InternalKeyKind, seq uint64, k, v []byte) {
	if len(k) == 0 {
		return
	}
	switch k[0] {
	case tagOp, tagPending:
		if kind != pebble.InternalKeyKindSet && kind != pebble.InternalKeyKindSetWithDelete {
			return
		}
		raw := v
		if k[0] == tagOp {
			var err error
			if _, raw, err = splitOpValue(v); err != nil {
				return
			}
		}
		if _, ok := sv.ops[string(raw)]; !ok {
			sv.ops[string(raw)] = struct{}{}
			sv.out.Ops = append(sv.out.Ops, bytes.Clone(raw))
		}
	case tagLocal:
		name := string(k[1:])
		if cur, ok := sv.local[name]; ok && cur.seq > seq {
			return
		}
		switch kind {
		case pebble.InternalKeyKindSet, pebble.InternalKeyKindSetWithDelete:
			sv.local[name] = localVersion{seq: seq, value: bytes.Clone(v)}
		case pebble.InternalKeyKindDelete, pebble.InternalKeyKindSingleDelete, pebble.InternalKeyKindDeleteSized:
			sv.local[name] = localVersion{seq: seq, deleted: true}
		}
	}
}

// table reads one sstable, up to its first unreadable block.
func (sv *salvager) table(fs vfs.FS, path string, ro sstable.ReaderOptions) error {
	f, err := fs.Open(path)
	if err != nil {
		return err
	}
	readable, err := sstable.NewSimpleReadable(f)
	if err != nil {
		f.Close()
		return err
	}
	r, err := sstable.NewReader(context.Background(), readable, ro)
	if err != nil {
		readable.Close()
		return err
	}
	defer r.Close()
	it, err := r.NewIter(sstable.NoTransforms, nil, nil, sstable.AssertNoBlobHandles)
	if err != nil {
		return err
	}
	for kv := it.First(); kv != nil; kv = it.Next() {
		v, _, err := kv.Value(nil)
		if err != nil {
			it.Close()
			return err
		}
		sv.add(kv.Kind(), uint64(kv.SeqNum()), kv.K.UserKey, v)
	}
	return it.Close()
}

// log reads one write-ahead log, up to its first unreadable record.
func (sv *salvager) log(fs vfs.FS, path string) error {
	f, err := fs.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	num, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".log"), 10, 64)
	if err != nil {
		return fmt.Errorf("not a log file name")
	}
	rr := newLogReader(record.NewReader, f, num)
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// A torn last record is how a crash leaves a log; it was
			// never acknowledged.
			if err == io.ErrUnexpectedEOF || record.IsInvalidRecord(err) {
				return nil
			}
			return err
		}
		b, err := io.ReadAll(rec)
		if err != nil {
			if err == io.ErrUnexpectedEOF || record.IsInvalidRecord(err) {
				return nil
			}
			return err
		}
		h, ok := batchrepr.ReadHeader(b)
		if !ok {
			continue
		}
		seq := uint64(h.SeqNum)
		br := batchrepr.Read(b)
		for i := uint64(0); ; i++ {
			kind, k, v, ok, err := br.Next()
			if err != nil || !ok {
				break
			}
			sv.add(kind, seq+i, k, v)
		}
	}
}

// newLogReader calls record.NewReader, whose log number type Pebble keeps
// internal, with the number num.
func newLogReader[N ~uint64](newReader func(io.Reader, N) *record.Reader, r io.Reader, num uint64) *record.Reader {
	return newReader(r, N(num))
}
