//go:build ignore

// mktypos writes a labelled question set with slips of the keyboard made
// in it, to measure how the knowledge base copes with them:
//
//	go run mktypos.go -in demo-unseen.jsonl -n 2 -seed 1 -out demo-slips.jsonl
//
// In each question, n of the words of four letters or more (chosen at
// random) get one slip each, at random: a letter left out, two
// neighbouring letters swapped, a letter replaced by one next to it on
// a QWERTY keyboard, or a letter typed twice. The first letter is never
// touched (people rarely mistype it, and the speller relies on that).
// The same input, n and seed give the same output.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

func main() {
	in := flag.String("in", "", "labelled questions, JSON Lines {text, intent}")
	out := flag.String("out", "", "where to write the questions with slips")
	n := flag.Int("n", 1, "slips per question")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := run(*in, *out, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "mktypos:", err)
		os.Exit(1)
	}
}

func run(in, out string, n int, seed uint64) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(seed, 0))
	for i, line := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		var q struct {
			Text   string `json:"text"`
			Intent string `json:"intent"`
		}
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			return fmt.Errorf("%s:%d: %w", in, i+1, err)
		}
		words := strings.Split(q.Text, " ")
		var long []int
		for j, word := range words {
			if len(word) >= 4 && strings.Trim(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
				long = append(long, j)
			}
		}
		rng.Shuffle(len(long), func(a, b int) { long[a], long[b] = long[b], long[a] })
		for _, j := range long[:min(n, len(long))] {
			words[j] = slip(rng, words[j])
		}
		q.Text = strings.Join(words, " ")
		b, err := json.Marshal(q)
		if err != nil {
			return err
		}
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// slip makes one slip in word (four letters or more), after its first
// letter.
func slip(rng *rand.Rand, word string) string {
	i := 1 + rng.IntN(len(word)-1)
	switch rng.IntN(4) {
	case 0: // left out
		return word[:i] + word[i+1:]
	case 1: // neighbours swapped
		i = min(i, len(word)-2)
		return word[:i] + word[i+1:i+2] + word[i:i+1] + word[i+2:]
	case 2: // a key next to it
		return word[:i] + string(nextKey(rng, word[i])) + word[i+1:]
	default: // typed twice
		return word[:i] + word[i:i+1] + word[i:]
	}
}

var keyRows = []string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}

// nextKey returns a key next to c on a QWERTY keyboard (c itself when it
// is not a lower-case letter).
func nextKey(rng *rand.Rand, c byte) byte {
	for r, row := range keyRows {
		i := strings.IndexByte(row, c)
		if i < 0 {
			continue
		}
		var near []byte
		for dr := -1; dr <= 1; dr++ {
			for di := -1; di <= 1; di++ {
				rr, ii := r+dr, i+di
				if (dr != 0 || di != 0) && rr >= 0 && rr < len(keyRows) && ii >= 0 && ii < len(keyRows[rr]) {
					near = append(near, keyRows[rr][ii])
				}
			}
		}
		return near[rng.IntN(len(near))]
	}
	return c
}
