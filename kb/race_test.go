//go:build race

package kb

// raceEnabled says the tests run under the race detector, which makes
// them many times slower.
const raceEnabled = true
