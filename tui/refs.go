package tui

import (
	"fmt"
	"strings"

	"murmur/api"
)

// refLine is a row of the refs tab, the columns of 'murmur refs list':
// the name (inside its namespace), the short commit, whose namespace
// (canonical, or the owner's alias or short key), whether this node
// holds the objects, a forced update, and the values set concurrently.
func refLine(st *Styles, r api.Ref) string {
	name, ns := r.Name, "canonical"
	if r.Namespace != "" {
		_, name = api.SplitNamespace(r.Name)
		ns = shortKey(r.Namespace)
		if r.Owner != nil {
			ns = displayName(*r.Owner)
		}
	}
	commit, objects := shortID(r.Commit), st.Online.Render("present")
	switch {
	case r.Commit == "":
		// A deletion that won over concurrent updates.
		commit, objects = "(deleted)", "       "
	case !r.Objects:
		objects = st.Pending.Render("missing")
	}
	line := fmt.Sprintf("%-24s %-9s %-14s %s", trunc(clean(name), 24), st.Subtle.Render(fmt.Sprintf("%-9s", commit)), trunc(clean(ns), 14), objects)
	if r.Forced {
		line += st.Pending.Render(" forced")
	}
	if len(r.Conflicts) > 0 {
		var also []string
		for _, c := range r.Conflicts {
			v := shortID(c.Value)
			if v == "" {
				v = "(deleted)"
			}
			also = append(also, v+" by "+displayName(c.Author))
		}
		line += st.Error.Render(" also " + strings.Join(also, ", "))
	}
	return line
}

// refsInfo is the info line of the refs tab: the count, the default
// branch and how many refs lack their objects; why is the first reason
// objects are missing ('murmur refs list' prints them all), for the line
// under it.
func refsInfo(refs []api.Ref, defaultBranch string) (info, why string) {
	info = plural(len(refs), "ref") + " · default branch " + trunc(defaultBranch, 30)
	missing := 0
	for _, r := range refs {
		if r.Commit != "" && !r.Objects {
			missing++
			if why == "" {
				why = clean(r.MissingReason)
			}
		}
	}
	if missing > 0 {
		info += fmt.Sprintf(" · objects missing for %d", missing)
	}
	return info, why
}

// shortKey shortens did:key:z6Mk… to its first 8 and last 4 characters.
func shortKey(did string) string {
	k := strings.TrimPrefix(clean(did), "did:key:")
	if len(k) <= 12 {
		return k
	}
	return k[:8] + "…" + k[len(k)-4:]
}

// refOwner is the alias of a namespace ref's owner, for the filter.
func refOwner(r api.Ref) string {
	if r.Owner == nil {
		return ""
	}
	return r.Owner.Alias
}
