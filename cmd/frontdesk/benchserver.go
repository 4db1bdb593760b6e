package main

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// localServer is the server process, when it runs on this machine and
// /proc shows it (Linux); pid is 0 otherwise.
type localServer struct{ pid int }

// findServer looks for the process listening on the URL's port when the
// URL's host is this machine, records its memory before any connection in
// res, and warns when its open-file limit is below the connections.
func (b *bench) findServer(res *benchResult) localServer {
	u := b.opts.url
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" {
			port = "443"
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil || !isLocalHost(u.Hostname()) {
		if b.opts.idle {
			fmt.Fprintf(b.log, "bench: the server is not on this machine: counting connections, not measuring its memory\n")
		}
		return localServer{}
	}
	res.ServerLocal = true
	pid, err := listeningPID(p)
	if err != nil {
		if b.opts.idle {
			fmt.Fprintf(b.log, "bench: server memory not measured: %v\n", err)
		}
		return localServer{}
	}
	res.ServerPID = pid
	if pid == os.Getpid() && b.opts.idle {
		fmt.Fprintf(b.log, "bench: the server runs in this process: its memory includes the bench's own side of the connections\n")
	}
	if kb, err := rssKB(pid); err == nil {
		res.ServerRSSBeforeKB = kb
	}
	need := uint64(b.opts.conversations + benchEchoConns + 64)
	if lim, err := openFileLimit(pid); err == nil && lim < need {
		fmt.Fprintf(b.log, "bench: warning: the server (pid %d) may open %d files, but %d connections need about %d: restart it after ulimit -n 65536\n", pid, lim, b.opts.conversations, need)
	}
	return localServer{pid: pid}
}

// isLocalHost reports whether host names this machine.
func isLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if found, err := net.LookupIP(host); err == nil {
		ips = found
	}
	addrs, _ := net.InterfaceAddrs()
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsUnspecified() {
			return true
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}

// listeningPID finds the process with a TCP socket listening on port: the
// socket's inode from /proc/net/tcp and tcp6, then the process with a
// file descriptor on socket:[inode].
func listeningPID(port int) (int, error) {
	inodes := map[string]bool{}
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if n, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && int(n) == port {
				inodes[fields[9]] = true
			}
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no process listens on port %d here, or /proc/net/tcp is not readable", port)
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // another user's process, or gone
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err == nil && strings.HasPrefix(link, "socket:[") && inodes[strings.TrimSuffix(link[len("socket:["):], "]")] {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("the process listening on port %d is not visible in /proc (another user's?)", port)
}

// rssKB returns a process's resident memory (VmRSS) in kB.
func rssKB(pid int) (int64, error) {
	v, err := procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return 0, fmt.Errorf("read memory of process %d: empty VmRSS", pid)
	}
	return strconv.ParseInt(fields[0], 10, 64)
}

// openFileLimit returns a process's soft limit on open files.
func openFileLimit(pid int) (uint64, error) {
	v, err := procField(fmt.Sprintf("/proc/%d/limits", pid), "Max open files")
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return 0, fmt.Errorf("read limits of process %d: no open-file limit", pid)
	}
	if fields[0] == "unlimited" {
		return math.MaxUint64, nil
	}
	return strconv.ParseUint(fields[0], 10, 64)
}

// procField returns the rest of the first line of a /proc file that
// starts with prefix.
func procField(name, prefix string) (string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			return rest, nil
		}
	}
	return "", fmt.Errorf("%s: no %q line", name, prefix)
}
