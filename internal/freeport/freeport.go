// Package freeport finds a port on 127.0.0.1 for a server that a test
// starts a moment later (a child process, PostgreSQL, a server that must
// come back on the same address after a restart).
//
// The port is chosen below the kernel's ephemeral range, so that between
// the check and the server's bind no other process's listener on port 0
// or outgoing connection takes it. Under a parallel `go test ./...`,
// another package's test server once got a just-freed ephemeral port in
// that moment and answered in the place of the server under test.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is the lowest port chosen: above the ports services use.
const lowest = 10000

// Addr returns "127.0.0.1:PORT" with a port that was free a moment ago.
func Addr() (string, error) {
	high := ephemeralLow()
	for range 100 {
		port := lowest + rand.IntN(high-lowest)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return ln.Addr().String(), nil
	}
	// All taken: a port from the kernel is better than none.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Port is Addr's port.
func Port() (int, error) {
	addr, err := Addr()
	if err != nil {
		return 0, err
	}
	_, p, _ := net.SplitHostPort(addr)
	return strconv.Atoi(p)
}

// ephemeralLow is the first port of the kernel's range for port 0 and
// outgoing connections (Linux's default, 32768, when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > lowest+1000 {
				return n
			}
		}
	}
	return 32768
}
