package kb

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEmbedCacheFileRoundTripsAndIgnoresOtherModelsAndDamage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "embeddings.json")
	c, err := readEmbedCache(file, "m1")
	if err != nil || len(c.vecs) != 0 {
		t.Fatalf("missing file: %v, %d vectors", err, len(c.vecs))
	}
	c.put("a", []float32{1, -2.5, 3e-7})
	c.put("b", []float32{0, 0, 1})
	if !c.keepOnly(map[string]bool{"a": true}) {
		t.Error("keepOnly after put reported no change")
	}
	if err := c.write(file); err != nil {
		t.Fatal(err)
	}
	if c.keepOnly(map[string]bool{"a": true}) {
		t.Error("keepOnly with nothing new or gone reported a change")
	}
	back, err := readEmbedCache(file, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := back.get("a"); !ok || !slices.Equal(v, []float32{1, -2.5, 3e-7}) || back.dims != 3 {
		t.Errorf("read back %v (dims %d)", v, back.dims)
	}
	if _, ok := back.get("b"); ok {
		t.Error("a dropped vector came back")
	}
	if other, err := readEmbedCache(file, "m2"); err != nil || len(other.vecs) != 0 {
		t.Errorf("another model's file: %v, %d vectors; want none, no error", err, len(other.vecs))
	}
	for name, text := range map[string]string{
		"not JSON":        "{\"version\": 1, \"vec",
		"a short vector":  `{"version": 1, "model": "m1", "dims": 3, "vectors": {"a": "AAAA"}}`,
		"another version": `{"version": 2, "model": "m1", "dims": 3, "vectors": {}}`,
	} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := readEmbedCache(file, "m1")
		if err == nil || c == nil || len(c.vecs) != 0 {
			t.Errorf("%s: err %v, cache %v; want an error and an empty cache", name, err, c)
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(file))
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
