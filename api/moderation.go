package api

import "time"

// Ban is an identity banned from a repo: replicas reject its ops that come
// causally after the ban.
type Ban struct {
	Person
	Reason string    `json:"reason,omitempty"`
	By     Person    `json:"by"`
	At     time.Time `json:"at"`
}

// Standing kinds: what SetStanding changes.
const (
	StandingBan    = "ban"    // the repo's banned identities
	StandingMember = "member" // the repo's members (who may open when WhoOpens is "members")
)

// Who may open issues and patches in a repo (Repo.WhoOpens).
const (
	OpensAnyone      = "anyone"
	OpensMembers     = "members"
	OpensMaintainers = "maintainers"
)

// Standing puts an identity in or out of a repo's banned identities or
// members. Only maintainers may change either.
type Standing struct {
	Kind     string `json:"kind"`     // StandingBan or StandingMember
	Identity string `json:"identity"` // a did:key or an alias known in the repo
	On       bool   `json:"on"`       // ban / add (true), unban / remove (false)
	Reason   string `json:"reason,omitempty"`
}
