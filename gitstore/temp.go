package gitstore

import (
	"fmt"
	"os"
	"path/filepath"
)

// tempPatterns are the files and directories, relative to a bare
// repository, that git writes under a temporary name and renames (or
// removes) when it finishes: a pack and its index while they arrive,
// loose objects while they are written, and object quarantines. A git
// that is killed, or whose parent is, leaves them behind; no ref can
// name what they hold.
var tempPatterns = []string{
	"objects/pack/tmp_*",
	"objects/pack/.tmp-*",
	"objects/incoming-*",
	"objects/tmp_objdir-*",
	"objects/??/tmp_obj_*",
}

// RemoveTemp deletes what interrupted git runs left in the store's
// repositories, which would otherwise take disk space (and count against
// a repo's quota) until git gc. It must run when no git works on the
// store, as when the store's owner starts. It returns the paths it
// removed.
func (s *Store) RemoveTemp() ([]string, error) {
	repos, err := filepath.Glob(filepath.Join(s.root, "*.git"))
	if err != nil {
		return nil, fmt.Errorf("gitstore: remove temporary files: %w", err)
	}
	var removed []string
	for _, dir := range repos {
		for _, pat := range tempPatterns {
			matches, err := filepath.Glob(filepath.Join(dir, pat))
			if err != nil {
				return removed, fmt.Errorf("gitstore: remove temporary files: %w", err)
			}
			for _, m := range matches {
				if err := os.RemoveAll(m); err != nil {
					return removed, fmt.Errorf("gitstore: remove temporary files: %w", err)
				}
				removed = append(removed, m)
			}
		}
	}
	return removed, nil
}
