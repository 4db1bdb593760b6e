package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/metrics"
)

// A store reports each commit; /metrics serves the figures.
func Example() {
	m := metrics.New(metrics.Options{Articles: 12})
	defer m.Close()
	m.ObserveCommit(3, 2*time.Millisecond) // three acts shared one fsync

	mux := http.NewServeMux()
	m.Routes(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "frontdesk_kb_articles ") || strings.HasPrefix(line, "frontdesk_store_commit_acts_sum") {
			fmt.Println(line)
		}
	}
	// Output:
	// frontdesk_kb_articles 12
	// frontdesk_store_commit_acts_sum 3
}
