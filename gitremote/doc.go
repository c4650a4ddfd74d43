// Package gitremote is git's remote helper for murmur:// URLs, the protocol
// behind git-remote-murmur: git runs the helper with the remote's name and
// URL and speaks to it on stdin and stdout (gitremote-helpers(7)).
//
// # URLs
//
// murmur://<repo> names a repo by its full 64-hex ID, or by a unique ID
// prefix or name of a repo the local node already has. A full ID of a repo
// the node does not have yet is followed first (a clone).
//
// # Fetching: connect
//
// The helper advertises the connect capability. On "connect
// git-upload-pack" it makes sure the node follows the repo and has synced
// it with peers, waits (bounded by Helper.Wait, saying so on stderr) until
// the node holds the objects of every canonical ref and its bare repository
// mirrors them, answers with an empty line and runs git upload-pack on that
// bare repository (api.Repo.GitDir) with stdin and stdout handed over. git
// then negotiates and fetches exactly as over ssh. The server speaks
// protocol v2 unless the user's protocol.version asks for an older one, so
// git's ls-refs prefixes keep participants' refs/namespaces/* out of a
// clone and a fetch; under v0 they are advertised but, outside refs/heads,
// never become branches. git ls-remote lists them, and a fetch that names
// one (refs/namespaces/<did>/refs/heads/x) gets it. The node writes the bare repository; the helper only reads it.
//
// # Pushing: the push capability
//
// "connect git-receive-pack" is answered with "fallback": a push goes
// through the node, which signs the ref ops, never through a git process
// writing its store. git then asks "list for-push" (the refs the pusher
// can move: a maintainer's canonical refs, anyone else's own namespace,
// shown without the namespace prefix) and sends a batch of "push
// [+]<src>:<dst>" lines. For each, the helper resolves src in the local
// repository, and calls api.Service.PushRefs with the local repository as
// the source of the objects, Force for '+', and the namespace chosen by the
// node (NamespaceAuto). It answers "ok <dst>" or "error <dst> <why>"; a
// refused non-fast-forward is reported as "non-fast forward" (git's own
// spelling in the helper protocol, space and all), which git shows as its
// usual "[rejected] ... (non-fast-forward)" with its hint to pull first;
// any other text would show as "[remote rejected]".
//
// # Reaching the node
//
// The helper talks to the node only through the local API (package attach):
// the running daemon, else a node started in the helper's process. An
// embedded node has networking for a fetch (peers from $MURMUR_JOIN, the
// address book) and stays offline for a push, whose refs then reach peers
// with the next sync or daemon.
package gitremote
