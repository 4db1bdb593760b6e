package kb

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
)

// Files inside a stored knowledge base directory.
const (
	indexDir  = "index.bleve"
	modelFile = "model.gob"
	metaFile  = "meta.json"
)

// meta records which content a stored knowledge base was built from.
type meta struct {
	Hash    string    `json:"content_hash"`
	Built   time.Time `json:"built"`
	Version string    `json:"version"`
}

// savedModel is the classifier and featurizer state written to disk.
type savedModel struct {
	Keys       []uint64 // feature hash of each column
	IDF        []float32
	UnknownIDF float32
	NClass     int
	OOS        int
	W, B       []float32
	// The dense columns (withDense): how many, and the words' idf.
	Dense          int
	WordIDF        map[string]float32
	WordUnknownIDF float32
}

// Open returns the knowledge base for c stored in dir, building and
// storing it first when dir is empty, unreadable, or holds another
// content's index (its content hash differs). Building writes to a fresh
// directory beside dir (dir.build-*) and renames it into place, so a
// crash never leaves a half index behind to be reused; the build
// folders such a crash leaves are removed by the next Open. Processes
// opening the same dir take turns (a lock file, dir.lock), so a second
// one waits for the first one's build and reuses it.
func Open(ctx context.Context, dir string, c *Content, opts Options) (*KB, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	unlock, err := lockBuilds(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	removeStaleBuilds(dir, opts)
	if k, err := load(dir, c, opts); err == nil {
		k.embed(ctx)
		return k, nil
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errStale) {
		// A damaged store is rebuilt, but the operator should hear of it.
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf("stored index unusable (%v); rebuilding", err), 0, 0)
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+buildSuffix)
	if err != nil {
		return nil, fmt.Errorf("create build directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	k, err := build(ctx, filepath.Join(tmp, indexDir), c, opts)
	if err != nil {
		return nil, err
	}
	if err := k.save(tmp, c.Hash); err != nil {
		k.Close()
		return nil, err
	}
	// The index must be closed before its directory moves.
	buildTime := k.BuildTime
	if err := k.Close(); err != nil {
		return nil, fmt.Errorf("close new index: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove old index: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("move new index into place: %w", err)
	}
	k, err = load(dir, c, opts)
	if err != nil {
		return nil, fmt.Errorf("open new index: %w", err)
	}
	k.Reused = false
	k.BuildTime = buildTime
	k.embed(ctx)
	return k, nil
}

var errStale = errors.New("stored index was built from other content")

// Names beside a stored knowledge base dir: its lock file and the prefix
// of its build folders.
const (
	lockSuffix  = ".lock"
	buildSuffix = ".build-"
)

// removeStaleBuilds removes the build folders of dir that a process left
// when it died while building (older than staleAfter), and tells
// opts.Progress. The caller holds the lock (lockBuilds), so no live build
// is among them.
func removeStaleBuilds(dir string, opts Options) {
	parent, prefix := filepath.Dir(dir), filepath.Base(dir)+buildSuffix
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < staleAfter {
			continue
		}
		b := filepath.Join(parent, e.Name())
		err := os.RemoveAll(b)
		if opts.Progress == nil {
			continue
		}
		if err != nil {
			opts.Progress(fmt.Sprintf("could not remove %s, left by an interrupted build: %v", b, err), 0, 0)
		} else {
			opts.Progress(fmt.Sprintf("removed %s, left by an interrupted build", b), 0, 0)
		}
	}
}

// load opens a stored knowledge base if it matches c.
func load(dir string, c *Content, opts Options) (*KB, error) {
	data, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", metaFile, err)
	}
	if m.Hash != c.Hash {
		return nil, errStale
	}
	f, err := os.Open(filepath.Join(dir, modelFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var sm savedModel
	if err := gob.NewDecoder(f).Decode(&sm); err != nil {
		return nil, fmt.Errorf("read %s: %w", modelFile, err)
	}
	k := newKB(c, opts)
	if sm.OOS != k.oos || len(sm.B) != sm.NClass || sm.Dense != wordDim || len(sm.W) != (len(sm.Keys)+sm.Dense)*sm.NClass || len(sm.IDF) != len(sm.Keys) {
		return nil, fmt.Errorf("read %s: model does not fit the content", modelFile)
	}
	k.feat.vocab = make(map[uint64]int32, len(sm.Keys))
	for i, h := range sm.Keys {
		k.feat.vocab[h] = int32(i)
	}
	k.feat.idf, k.feat.unknownIDF = sm.IDF, sm.UnknownIDF
	k.feat.wordIDF, k.feat.wordUnknownIDF = sm.WordIDF, sm.WordUnknownIDF
	if k.feat.wordIDF == nil {
		k.feat.wordIDF = map[string]float32{} // gob drops an empty map
	}
	k.model = &classifier{nClass: sm.NClass, w: sm.W, b: sm.B}
	texts, ys := k.examples(c)
	_, k.large = trainFor(len(texts))
	xs := make([]sparse, len(texts))
	for i, t := range texts {
		xs[i] = k.feat.transform(t)
	}
	k.phrasings = newPhrasings(xs, ys, sm.NClass, len(sm.Keys))
	idx, err := bleve.Open(filepath.Join(dir, indexDir))
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	if err := k.setIndex(idx); err != nil {
		idx.Close()
		return nil, err
	}
	k.Reused = true
	return k, nil
}

// save writes the model and the meta file next to the index. The meta
// file goes last: its presence says the rest is complete.
func (k *KB) save(dir, hash string) error {
	sm := savedModel{
		Keys:           make([]uint64, len(k.feat.idf)),
		IDF:            k.feat.idf,
		UnknownIDF:     k.feat.unknownIDF,
		NClass:         k.model.nClass,
		OOS:            k.oos,
		W:              k.model.w,
		B:              k.model.b,
		Dense:          wordDim,
		WordIDF:        k.feat.wordIDF,
		WordUnknownIDF: k.feat.wordUnknownIDF,
	}
	for h, i := range k.feat.vocab {
		sm.Keys[i] = h
	}
	if err := writeFile(filepath.Join(dir, modelFile), func(f *os.File) error {
		return gob.NewEncoder(f).Encode(&sm)
	}); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, metaFile), func(f *os.File) error {
		return json.NewEncoder(f).Encode(meta{Hash: hash, Built: time.Now().UTC(), Version: buildVersion})
	})
}

// writeFile creates name, fills it with write and syncs it to disk.
func writeFile(name string, write func(*os.File) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return f.Close()
}
