package repogen_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"murmur/internal/repogen"
)

// A benchmark generates the same history on every run and serves it.
func ExampleGenerate() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "repogen")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "src")
	head, err := repogen.Generate(ctx, src, repogen.Options{Commits: 500, Seed: 1})
	if err != nil {
		fmt.Println(err) // git is missing, or the disk is full
		return
	}
	count, _ := repogen.Git(ctx, src, "rev-list", "--count", head)
	fmt.Println(count, "commits, head", head)
}
