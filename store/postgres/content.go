package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Article files edited in the console of one node reach the others
// through the table content_files: the editing node stores the file and
// announces it ("c"), and every node's content sync writes what changed
// into its own content directory, whose watcher re-indexes it. The
// database keeps only what was edited in a console; the rest of the
// content is deployed to every node as files.

// ContentFile is an article file edited in a console, as the database
// has it.
type ContentFile struct {
	Name string
	// Sum is the SHA-256 of the file's bytes.
	Sum [sha256.Size]byte
	// Written is when it was stored.
	Written time.Time
}

// ShareContentFile stores data as the article file name and announces
// it to every node, in one transaction: the announcement is sent only if
// the file is stored.
func (db *DB) ShareContentFile(ctx context.Context, name string, data []byte) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO content_files (name, data, written_at) VALUES ($1, $2, now())
			ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data, written_at = EXCLUDED.written_at`, name, data); err != nil {
			return fmt.Errorf("store content file %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, 'c')", Channel); err != nil {
			return fmt.Errorf("announce content file %s: %w", name, err)
		}
		return nil
	})
}

// ContentFiles lists the stored article files, by name, without their
// bytes.
func (db *DB) ContentFiles(ctx context.Context) ([]ContentFile, error) {
	rows, err := db.pool.Query(ctx, "SELECT name, sha256(data), written_at FROM content_files ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list content files: %w", err)
	}
	var out []ContentFile
	for rows.Next() {
		var f ContentFile
		var sum []byte
		if err := rows.Scan(&f.Name, &sum, &f.Written); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list content files: %w", err)
		}
		copy(f.Sum[:], sum)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list content files: %w", err)
	}
	return out, nil
}

// ErrNoContentFile is returned by ContentFileData for a name not stored.
var ErrNoContentFile = errors.New("no such content file")

// ContentFileData returns the bytes of the stored article file name and
// when it was written.
func (db *DB) ContentFileData(ctx context.Context, name string) ([]byte, time.Time, error) {
	var data []byte
	var at time.Time
	err := db.pool.QueryRow(ctx, "SELECT data, written_at FROM content_files WHERE name = $1", name).Scan(&data, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, ErrNoContentFile
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read content file %s: %w", name, err)
	}
	return data, at, nil
}
