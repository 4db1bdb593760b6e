package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/internal/watch"
	"github.com/frontdesk/frontdesk/kb"
)

// contentSettle is how long the content directory must be quiet after a
// change before it is re-indexed: an editor's save is several events.
const contentSettle = 300 * time.Millisecond

// contentRescan is how often the content directory is also compared with
// how it looked: the nodes of a cluster sharing one directory on a
// network file system get no events for what another node (its console)
// writes there.
const contentRescan = 10 * time.Second

// watchContent re-indexes the content directory in the background each
// time it changes, until ctx ends: questions keep being answered from the
// previous knowledge base until the new one is whole (kb.Live). Problems
// are logged; the console and /readyz show them too.
func watchContent(ctx context.Context, dir string, live *kb.Live, log *slog.Logger) {
	err := watch.Dir(ctx, dir, contentSettle, contentRescan, func() {
		start := time.Now()
		st, err := live.Reload(ctx, os.DirFS(dir))
		if err != nil {
			log.Error("content reload failed; the previous knowledge base still serves", "dir", dir, "err", err)
			return
		}
		for _, p := range st.Problems {
			log.Warn("content problem", "file", p.File, "line", p.Line, "problem", p.Msg)
		}
		for _, id := range st.Kept {
			log.Warn("content file broken; its previous version still serves", "article", id)
		}
		log.Info("content reloaded", "articles", st.Articles, "problems", len(st.Problems), "seconds", time.Since(start).Seconds())
	})
	if err != nil {
		log.Error("cannot watch the content directory; restart to pick up changes", "dir", dir, "err", err)
	}
}

// contentEditor writes the articles agents save from conversations and
// admins edit into the content directory, or, with the embedded demo
// content, writes nothing and offers the Markdown instead.
func contentEditor(dir string, live *kb.Live) *kb.Editor {
	if dir == "" {
		return kb.NewEditor(content.FS, "", live)
	}
	return kb.NewEditor(os.DirFS(dir), dir, live)
}

// contentProblems lists the live content's problems for /readyz, one
// sentence each.
func contentProblems(live *kb.Live) func() []string {
	return func() []string {
		st := live.Status()
		var out []string
		for _, p := range st.Problems {
			out = append(out, p.Error())
		}
		for _, id := range st.Kept {
			out = append(out, "article "+id+": its file is broken; the previous version still serves")
		}
		if st.Err != "" {
			out = append(out, "last reload failed: "+st.Err)
		}
		return out
	}
}
