package bolt

// SetBetweenRollup sets the hook run between a rollup's reading and its
// writing (nil: none), for the conformance suite.
func SetBetweenRollup(db *DB, f func()) { db.betweenRollup = f }
