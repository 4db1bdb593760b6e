package postgres_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/internal/pgtest"
)

// BenchmarkAttachment keeps a file of the cap's size (10 MiB, random
// bytes behind a PNG header, as incompressible as a photo) and reads it
// back, as a node serving it would.
func BenchmarkAttachment(b *testing.B) {
	for _, size := range []int{100 << 10, attachment.DefaultMaxSize} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s := attachment.New(open(b, pgtest.DB(b)), 0)
			data := make([]byte, size)
			r := rand.NewChaCha8([32]byte{})
			r.Read(data)
			copy(data, "\x89PNG\r\n\x1a\n")
			b.SetBytes(int64(2 * size))
			b.ReportAllocs()
			for b.Loop() {
				a, err := s.SaveContext(ctx, "con_0b", "photo.png", bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				f, _, err := s.Open(ctx, "con_0b", a.ID)
				if err != nil {
					b.Fatal(err)
				}
				if n, _ := io.Copy(io.Discard, f); n != int64(size) {
					b.Fatalf("read %d bytes", n)
				}
				f.Close()
			}
		})
	}
}
