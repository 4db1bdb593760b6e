package main

import (
	"fmt"
	"io"
	"log/slog"
)

// newLogger returns the server's logger: text (slog's key=value lines)
// or json (one JSON object a line, for log collectors), at level and
// above.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("log-level: %v", err)}
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("log-format: %q is not text or json", format)}
}
