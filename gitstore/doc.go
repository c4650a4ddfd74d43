// Package gitstore owns the code of replicated repos: one bare git
// repository per repo in the data directory, and the transfer of git
// objects between peers over any reliable byte stream (in murmur, an
// authenticated mesh stream).
//
// The real git program does the work that git is good at: packs,
// negotiation (protocol version 2) and fsck. This package finds git,
// runs it with a fixed configuration, and guards the edges:
//
//   - Serving (Store.ServeFetch) runs git upload-pack for one peer. The
//     peer's requests pass through a filter that reads them as pkt-lines,
//     bounds every line and every request, allows only the ls-refs and
//     fetch commands, and refuses a fetch that wants an object not
//     reachable from the repository's refs. git upload-pack under
//     protocol v2 would serve any object it holds; the filter is what
//     makes a node serve only what its refs name.
//   - Fetching (Store.Fetch) runs git fetch against a one-shot git://
//     listener on loopback whose path is a random token; the listener
//     relays the session to the stream, counts what the peer sends and
//     cuts the session at Limits.MaxFetchBytes. git checks every object
//     it receives (fetch.fsckObjects). A failed fetch changes no ref: git
//     writes received packs under a temporary name and the caller sets
//     refs only after Fetch returns.
//   - Reading (Store.Diff, Store.LineCount, Store.MergeBase) runs git
//     diff, cat-file and merge-base with fixed options. A diff is read
//     in one git run (--raw --numstat -z, then the patch), bounded by
//     MaxDiffBytes, MaxDiffFiles and MaxDiffLines, and parsed
//     (ParsePatch) into files, hunks and lines numbered on both sides; a
//     file's lines are counted as git streams them, never held whole.
//
// # Stream format
//
// After the stream's own header (chosen by the caller), the fetching side
// sends git's protocol v2 requests exactly as git fetch writes them after
// its git:// request line, and the serving side sends exactly what git
// upload-pack writes: the capability advertisement, then one response per
// request. A request is a sequence of pkt-lines (four hex digits giving
// the length including themselves, at most 65520, then the data; "0000"
// flush ends a request, "0001" separates the command from its
// arguments). The serving side closes the stream when upload-pack exits.
//
// This package depends on nothing else in murmur.
package gitstore
