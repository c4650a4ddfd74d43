package policy

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Watcher keeps the rules of a data directory's policy file current: Rules
// looks at the file at most once per Interval and recompiles it when its
// size or modification time changed. A file that fails to load keeps the
// last good rules and is reported once through OnError. It is safe for
// concurrent use and starts no goroutine.
type Watcher struct {
	path     string
	home     string
	interval time.Duration
	onErr    func(error)
	onChange func(*Rules)

	rules atomic.Pointer[Rules]

	// mu guards checked, size and mod.
	mu      sync.Mutex
	checked time.Time
	size    int64
	mod     time.Time
}

// Interval is how often a Watcher looks at the policy file.
const Interval = time.Second

// NewWatcher loads home's policy. onErr (may be nil) hears of a later
// file that does not load; onChange (may be nil) of rules that replaced
// the last ones, called without locks held.
func NewWatcher(home string, onErr func(error), onChange func(*Rules)) (*Watcher, error) {
	w := &Watcher{path: filepath.Join(home, File), home: home, interval: Interval, onErr: onErr, onChange: onChange}
	p, err := Load(home)
	if err != nil {
		return nil, err
	}
	r, err := Compile(p)
	if err != nil {
		return nil, err
	}
	w.rules.Store(r)
	w.size, w.mod = w.stat()
	w.checked = time.Now()
	return w, nil
}

func (w *Watcher) stat() (int64, time.Time) {
	st, err := os.Stat(w.path)
	if err != nil {
		return -1, time.Time{}
	}
	return st.Size(), st.ModTime()
}

// Rules returns the current rules.
func (w *Watcher) Rules() *Rules {
	w.mu.Lock()
	if time.Since(w.checked) < w.interval {
		w.mu.Unlock()
		return w.rules.Load()
	}
	w.checked = time.Now()
	size, mod := w.stat()
	if size == w.size && mod.Equal(w.mod) {
		w.mu.Unlock()
		return w.rules.Load()
	}
	w.size, w.mod = size, mod
	w.mu.Unlock()
	return w.Reload()
}

// Reload reads the file now.
func (w *Watcher) Reload() *Rules {
	p, err := Load(w.home)
	var r *Rules
	if err == nil {
		r, err = Compile(p)
	}
	if err != nil {
		if w.onErr != nil {
			w.onErr(err)
		}
		return w.rules.Load()
	}
	w.rules.Store(r)
	if w.onChange != nil {
		w.onChange(r)
	}
	return r
}
