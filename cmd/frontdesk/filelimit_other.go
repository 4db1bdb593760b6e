//go:build !linux

package main

import "errors"

// raiseFileLimit is only implemented on Linux; elsewhere the limit is left
// as it is (Go raises the soft limit to the hard one at start).
func raiseFileLimit(need uint64) (uint64, error) { return 0, errors.ErrUnsupported }
