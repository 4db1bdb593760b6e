package stats

import "fmt"

// Rolled is one conversation's contribution as a store's rollup read
// it, to be written if the conversation has not changed since.
type Rolled struct {
	ID       string
	Gone     bool  // erased
	Rev, Seq int64 // the conversation's revision and last seq when read
	Next     Days
}

// MaxRollup is how many marked conversations one round of a rollup reads
// and writes at most.
const MaxRollup = 500

// RollUp is the loop every store's Rollup runs. read returns the
// contributions of up to MaxRollup marked conversations after the id
// after (computed on a snapshot, beside the acts), and whether others
// follow; write stores a batch's contributions in the day totals, in one
// short act, and clears the marks of the conversations unchanged since
// they were read. Going on from the last id read, a rollup reaches every
// mark even when the first ones are marked again as fast as they are
// rolled up. between, if set (by tests), runs between a round's read and
// its write.
func RollUp(read func(after string) ([]Rolled, bool, error), write func([]Rolled) error, between func()) error {
	after := ""
	for {
		batch, more, err := read(after)
		if err != nil || len(batch) == 0 {
			return err
		}
		after = batch[len(batch)-1].ID
		if between != nil {
			between()
		}
		if err := write(batch); err != nil {
			return fmt.Errorf("roll up: %w", err)
		}
		if !more {
			return nil
		}
	}
}
