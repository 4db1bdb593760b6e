//go:build !unix

package kb

import "time"

// lockBuilds does nothing where flock is missing: build folders are
// told from live ones by their age instead (staleAfter).
func lockBuilds(dir string) (unlock func(), err error) { return func() {}, nil }

// staleAfter is how old a build folder must be before it is removed as
// stale: far longer than any build takes.
const staleAfter = time.Hour
