package merkle

import (
	"errors"
	"fmt"
)

// SimResult is the outcome of a session run in memory by Simulate.
type SimResult struct {
	// Messages is the number of messages exchanged, both ways.
	Messages int
	// RoundTrips is Messages / 2.
	RoundTrips float64
	// OverheadBytes is the size of all messages, both ways.
	OverheadBytes int
	// Need holds the IDs a lacks (and b has), Have the IDs b lacks (and a
	// has), as Session.Need and Session.Have report them on a's side.
	Need, Have [][32]byte
	// Restarted says the session fell back to strict mode.
	Restarted bool
	// Initiator and Responder are the two sides' own counts.
	Initiator, Responder Stats
}

// Simulate reconciles a (as initiator) with b (as responder) in memory with
// default options and reports the cost and the result. It also checks that
// the two sides agree: a's Need must be b's Have and the other way round.
func Simulate(a, b *Tree) (SimResult, error) {
	return SimulateOptions(a, b, Options{}, Options{})
}

// SimulateOptions is Simulate with options for each side.
func SimulateOptions(a, b *Tree, aopts, bopts Options) (SimResult, error) {
	sa, msg, err := NewInitiator(a, aopts)
	if err != nil {
		return SimResult{}, fmt.Errorf("merkle: simulate: %w", err)
	}
	sb := NewResponder(b, bopts)
	cur, other := sb, sa
	limit := 4 * max(sa.opts.MaxRoundTrips, sb.opts.MaxRoundTrips)
	for range limit {
		reply, done, err := cur.Receive(msg)
		if err != nil {
			return SimResult{}, fmt.Errorf("merkle: simulate: %w", err)
		}
		if reply == nil {
			if !done {
				return SimResult{}, errors.New("merkle: simulate: a side neither replied nor finished")
			}
			break
		}
		msg = reply
		cur, other = other, cur
	}
	if !sa.Done() || !sb.Done() {
		return SimResult{}, errors.New("merkle: simulate: session did not finish")
	}
	as, bs := sa.Stats(), sb.Stats()
	res := SimResult{
		Messages:      as.MessagesSent + bs.MessagesSent,
		OverheadBytes: as.BytesSent + bs.BytesSent,
		Need:          sa.Need(),
		Have:          sa.Have(),
		Restarted:     as.Restarted || bs.Restarted,
		Initiator:     as,
		Responder:     bs,
	}
	res.RoundTrips = float64(res.Messages) / 2
	if !sameIDs(res.Need, sb.Have()) || !sameIDs(res.Have, sb.Need()) {
		return res, fmt.Errorf("merkle: simulate: %w: the two sides disagree", ErrVerify)
	}
	return res, nil
}

func sameIDs(a, b [][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	set := make(map[[32]byte]struct{}, len(a))
	for _, id := range a {
		set[id] = struct{}{}
	}
	for _, id := range b {
		if _, ok := set[id]; !ok {
			return false
		}
	}
	return len(set) == len(b)
}
