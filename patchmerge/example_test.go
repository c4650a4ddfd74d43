package patchmerge_test

import (
	"context"
	"errors"
	"fmt"

	"murmur/patchmerge"
)

// Merge a patch head into main in a working copy, fetching from the
// node's bare repository; a conflict leaves the working copy as it was.
func ExampleMerge() {
	res, err := patchmerge.Merge(context.Background(), patchmerge.Request{
		Dir:        "/home/alice/src/murmur",
		Source:     "/home/alice/.murmur/git/<repo id>.git",
		Head:       "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
		Branch:     "main",
		BaseCommit: "5d41402abc4b2a76b9719d911017c592aaaaaaaa",
		Message:    "Merge patch 9c1e: Handle empty config",
	})
	var conflict *patchmerge.ConflictError
	switch {
	case errors.As(err, &conflict):
		fmt.Println("resolve by hand:", conflict.Files)
	case err != nil:
		fmt.Println("not merged:", err)
	default:
		fmt.Println("main is now", res.Commit, "fast-forward:", res.FastForward)
	}
}
