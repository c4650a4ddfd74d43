package storage

// gen2 is a bounded map that keeps what was used recently: entries live in
// a current generation, and when it is full it becomes the old one and the
// previous old one is dropped. A hit in the old generation moves the entry
// back to the current one. It holds at most 2×limit entries, and unlike a
// map that is cleared when full it never forgets an entry that is in use.
type gen2[K comparable, V any] struct {
	cur, old map[K]V
	limit    int
}

func newGen2[K comparable, V any](limit int) gen2[K, V] {
	return gen2[K, V]{cur: make(map[K]V), limit: limit}
}

func (g *gen2[K, V]) get(k K) (V, bool) {
	if v, ok := g.cur[k]; ok {
		return v, true
	}
	v, ok := g.old[k]
	if ok {
		delete(g.old, k)
		g.put(k, v)
	}
	return v, ok
}

func (g *gen2[K, V]) put(k K, v V) {
	if len(g.cur) >= g.limit {
		if _, ok := g.cur[k]; !ok {
			g.old, g.cur = g.cur, make(map[K]V, g.limit)
		}
	}
	g.cur[k] = v
}
