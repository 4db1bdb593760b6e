package kb

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// embedCache holds the vectors of article texts by the SHA-256 of the
// text, for one embedding model. On disk it is one JSON file:
//
//	{"version": 1, "model": "nomic-embed-text", "dims": 768,
//	 "vectors": {"<sha256 hex>": "<base64 of little-endian float32s>", ...}}
//
// A file written for another model, or not in this form, is ignored.
type embedCache struct {
	model string
	dims  int
	vecs  map[string][]float32
	// dirty says vectors were added since the cache was read or kept.
	dirty bool
}

type embedCacheFile struct {
	Version int               `json:"version"`
	Model   string            `json:"model"`
	Dims    int               `json:"dims"`
	Vectors map[string]string `json:"vectors"`
}

// readEmbedCache reads the cache in file for model. It always returns
// a usable cache, empty when the file is missing (no error), unreadable
// or for another model (the error says why).
func readEmbedCache(file, model string) (*embedCache, error) {
	c := &embedCache{model: model, vecs: map[string][]float32{}}
	if file == "" {
		return c, nil
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	var f embedCacheFile
	if err := json.Unmarshal(data, &f); err != nil {
		return c, fmt.Errorf("read %s: %w", file, err)
	}
	if f.Version != 1 {
		return c, fmt.Errorf("read %s: version %d, want 1", file, f.Version)
	}
	if f.Model != model {
		// Vectors of another model do not compare with this one's.
		return c, nil
	}
	for key, s := range f.Vectors {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != 4*f.Dims || f.Dims == 0 {
			return &embedCache{model: model, vecs: map[string][]float32{}}, fmt.Errorf("read %s: vector %s is damaged", file, key)
		}
		v := make([]float32, f.Dims)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		c.vecs[key] = v
	}
	if len(c.vecs) > 0 {
		c.dims = f.Dims
	}
	return c, nil
}

func (c *embedCache) get(key string) ([]float32, bool) {
	v, ok := c.vecs[key]
	return v, ok
}

// put stores v (whose length checkVectors has matched to c.dims).
func (c *embedCache) put(key string, v []float32) {
	if c.dims == 0 {
		c.dims = len(v)
	}
	c.vecs[key] = v
	c.dirty = true
}

// keepOnly drops the vectors whose key is not in keep, and reports
// whether the cache changed since it was read or last kept.
func (c *embedCache) keepOnly(keep map[string]bool) bool {
	changed := c.dirty
	c.dirty = false
	for key := range c.vecs {
		if !keep[key] {
			delete(c.vecs, key)
			changed = true
		}
	}
	return changed
}

// clone copies the map (the vectors are never changed in place).
func (c *embedCache) clone() *embedCache {
	out := &embedCache{model: c.model, dims: c.dims, vecs: make(map[string][]float32, len(c.vecs))}
	for k, v := range c.vecs {
		out.vecs[k] = v
	}
	return out
}

// write replaces file with the cache: a new file beside it, synced,
// then renamed over it, so a crash leaves the old cache or the new one.
// With file "" it does nothing.
func (c *embedCache) write(file string) error {
	if file == "" {
		return nil
	}
	f := embedCacheFile{Version: 1, Model: c.model, Dims: c.dims, Vectors: make(map[string]string, len(c.vecs))}
	buf := make([]byte, 4*c.dims)
	for key, v := range c.vecs {
		for i, x := range v {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		f.Vectors[key] = base64.StdEncoding.EncodeToString(buf)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := json.NewEncoder(tmp).Encode(&f); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
