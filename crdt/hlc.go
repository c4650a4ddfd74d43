package crdt

import (
	"fmt"
	"sync"
	"time"
)

// Timestamp is a hybrid logical clock reading: wall-clock milliseconds since
// the Unix epoch in the high 48 bits and a logical counter in the low 16.
// Comparing two Timestamps as integers orders them by (wall, logical).
//
// The packed form is part of murmur's signed op format and must not change.
type Timestamp uint64

const logicalBits = 16

// MaxLogical is the largest logical counter a Timestamp can hold.
const MaxLogical = 1<<logicalBits - 1

// MaxWall is the largest wall-clock reading, in milliseconds since the Unix
// epoch, that a Timestamp can hold (some time in the year 10889).
const MaxWall = 1<<(64-logicalBits) - 1

// maxTimestamp is the greatest Timestamp; a Clock never moves past it.
const maxTimestamp = Timestamp(1<<64 - 1)

// NewTimestamp packs a wall-clock reading in milliseconds and a logical
// counter. A negative wallMillis is read as 0 and one above MaxWall as
// MaxWall, so the wall part never wraps into the logical bits.
func NewTimestamp(wallMillis int64, logical uint16) Timestamp {
	switch {
	case wallMillis < 0:
		wallMillis = 0
	case wallMillis > MaxWall:
		wallMillis = MaxWall
	}
	return Timestamp(uint64(wallMillis)<<logicalBits | uint64(logical))
}

// Wall returns the wall-clock part in milliseconds since the Unix epoch.
func (t Timestamp) Wall() int64 { return int64(uint64(t) >> logicalBits) }

// Logical returns the logical counter.
func (t Timestamp) Logical() uint16 { return uint16(uint64(t) & MaxLogical) }

// Time returns the wall-clock part as a time.Time in UTC.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.Wall()).UTC() }

// String formats t as RFC 3339 with milliseconds, plus the logical counter
// when it is not zero.
func (t Timestamp) String() string {
	s := t.Time().Format("2006-01-02T15:04:05.000Z")
	if l := t.Logical(); l != 0 {
		s += fmt.Sprintf("+%d", l)
	}
	return s
}

// Clock issues Timestamps that are strictly increasing and greater than every
// Timestamp it has observed. It is safe for concurrent use. The zero Clock
// reads time.Now.
//
// When the wall clock stands still or goes backwards, readings advance the
// logical counter of the last one; when the counter is full it carries into
// the wall part, so a reading may run up to a few milliseconds ahead of the
// wall clock under sustained load and falls back in step once time catches
// up. The only reading a Clock cannot exceed is the greatest Timestamp
// (wall MaxWall, logical MaxLogical): once there, Now keeps returning it.
// Callers that accept Timestamps from peers should refuse ones far ahead of
// local time before passing them to Now or Observe.
type Clock struct {
	now func() time.Time

	// mu guards last.
	mu   sync.Mutex
	last Timestamp
}

// NewClock returns a Clock reading wall time from now (time.Now when nil).
// The Clock calls now with its lock held, so now need not be safe for
// concurrent use.
func NewClock(now func() time.Time) *Clock {
	return &Clock{now: now}
}

// Now returns a Timestamp greater than every one issued or observed before,
// and greater than each of after (typically the clocks of an op's parents).
func (c *Clock) Now(after ...Timestamp) Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	floor := c.last
	for _, a := range after {
		floor = max(floor, a)
	}
	t := NewTimestamp(c.wallLocked(), 0)
	if t <= floor {
		t = floor
		if t < maxTimestamp {
			t++ // a full logical counter carries into the wall part
		}
	}
	c.last = t
	return t
}

// Observe records a Timestamp seen on a received op, so that later readings
// order after it.
func (c *Clock) Observe(t Timestamp) {
	c.mu.Lock()
	c.last = max(c.last, t)
	c.mu.Unlock()
}

// wallLocked reads the wall clock in milliseconds since the Unix epoch. It
// runs under c.mu, so the now function passed to NewClock is never called
// concurrently.
func (c *Clock) wallLocked() int64 {
	if c.now == nil {
		return time.Now().UnixMilli()
	}
	return c.now().UnixMilli()
}
