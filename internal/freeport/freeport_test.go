package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestAddrIsFreeAndOutsideTheEphemeralRange: the address can be bound,
// and its port is one the kernel does not hand out by itself.
func TestAddrIsFreeAndOutsideTheEphemeralRange(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		addr, err := Addr()
		if err != nil {
			t.Fatal(err)
		}
		host, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		if host != "127.0.0.1" || port < lowest || port >= ephemeralLow() {
			t.Errorf("Addr() = %s, want 127.0.0.1 with a port in [%d, %d)", addr, lowest, ephemeralLow())
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		ln.Close()
		seen[addr] = true
	}
	if len(seen) < 15 {
		t.Errorf("20 calls gave %d distinct ports: %v", len(seen), seen)
	}
	if p, err := Port(); err != nil || p < lowest {
		t.Errorf("Port() = %d, %v", p, err)
	}
}
