// Package pgtest starts a throw-away PostgreSQL server for tests: one
// cluster per test binary, initialised in a temporary directory, listening
// on a unix socket in that directory and on a free loopback port, with a
// fresh database for every test that asks (see DB).
//
// The cluster is started on first use and stopped by Main, which a test
// package using pgtest must call from its TestMain. When no PostgreSQL
// can be started (no binaries, or a server that will not start) the tests
// that need it are skipped, or fail under CI (CI set), where .ci/run
// installs PostgreSQL. FRONTDESK_TEST_POSTGRES, when set, names an
// existing server to use instead (a DSN of a role that may create
// databases). A test binary that dies before Main's cleanup (a panic, a
// kill) leaves its server running; pg_ctl stop -D <its directory> ends it.
//
// initdb refuses to run as root: a test binary running as root runs the
// server's commands as the "postgres" user (runuser), in a directory that
// user owns.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/internal/freeport"
)

// EnvDSN names an existing server to use instead of starting one.
const EnvDSN = "FRONTDESK_TEST_POSTGRES"

// cluster is the test binary's server.
type cluster struct {
	dir   string // data and socket directory ("" for an existing server)
	bin   string
	runAs string // user the server's commands run as, "" for ourselves
	admin string // DSN of the maintenance database "postgres"
}

var (
	once     sync.Once
	shared   *cluster
	startErr error
	skipWhy  string
	dbSeq    atomic.Int64
)

// Main runs the package's tests and then stops the cluster, if one was
// started. Call it from TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with cleanup of its own: it runs the tests,
// stops the cluster if one was started, and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	return code
}

// DB creates an empty database for the test on the shared cluster
// (starting it on first use) and returns its DSN; the database is dropped
// when the test ends. When no PostgreSQL can be started the test is
// skipped, or fails under CI.
func DB(t testing.TB) string {
	t.Helper()
	once.Do(func() { shared, skipWhy, startErr = start() })
	why := skipWhy
	if startErr != nil {
		why = "cannot start PostgreSQL: " + startErr.Error()
	}
	if why != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: %s (CI installs PostgreSQL: see .ci/run)", why)
		}
		t.Skipf("pgtest: %s; install Debian's postgresql package or set %s", why, EnvDSN)
	}
	name := fmt.Sprintf("frontdesk_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	if err := shared.exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := shared.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(shared.admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// exec runs one statement on the maintenance database.
func (c *cluster) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// start starts the cluster, or says why the tests must skip.
func start() (c *cluster, skip string, err error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return &cluster{admin: dsn}, "", nil
	}
	bin, err := binDir()
	if err != nil {
		return nil, err.Error(), nil
	}
	c = &cluster{bin: bin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, "running as root and there is no postgres user to run the server as", nil
		}
		c.runAs = "postgres"
	}
	// Not t.TempDir: the server's user must reach the directory, and the
	// socket's path must stay short.
	c.dir, err = os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, "", err
	}
	if c.runAs != "" {
		u, _ := user.Lookup(c.runAs)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return nil, "", err
		}
	}
	data := filepath.Join(c.dir, "data")
	if out, err := c.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		c.removeDir()
		return nil, "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freeport.Port()
	if err != nil {
		c.removeDir()
		return nil, "", err
	}
	// Durability is not under test here: skip fsync for speed.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, c.dir)
	if out, err := c.run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(c.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		c.removeDir()
		return nil, "", fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	c.admin = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/postgres", RawQuery: "sslmode=disable"}).String()
	return c, "", nil
}

// stop stops the server immediately and removes its directory.
func (c *cluster) stop() {
	if c.dir == "" {
		return
	}
	if out, err := c.run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", filepath.Join(c.dir, "data")); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: pg_ctl stop: %v: %s\n", err, out)
	}
	c.removeDir()
}

func (c *cluster) removeDir() { os.RemoveAll(c.dir) }

// run runs one of the server's programs, as the server's user.
func (c *cluster) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// binDir finds the directory of initdb and pg_ctl: PATH first, then
// Debian's /usr/lib/postgresql/<version>/bin, newest version first.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl) found")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}
