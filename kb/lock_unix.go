//go:build unix

package kb

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockBuilds takes the lock that every process opening the knowledge base
// in dir holds while it opens, builds and cleans it: an exclusive flock
// on the file lockFile beside dir, waiting while another process holds
// it. The operating system releases a dead process's lock, so a build
// folder found while holding it belongs to nobody.
func lockBuilds(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(dir+lockSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open knowledge base lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock knowledge base %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// staleAfter is how old a build folder must be before it is removed as
// stale. With the lock held, any build folder is stale.
const staleAfter time.Duration = 0
