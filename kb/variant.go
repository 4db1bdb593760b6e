package kb

import "fmt"

// checkVariants keeps the variants that name an article (not another
// variant) and at least one segment, reporting the others.
func checkVariants(articles, variants []Article, probs *[]Problem) []Article {
	ids := make(map[string]bool, len(articles))
	for _, a := range articles {
		ids[a.ID] = true
	}
	var kept []Article
	for _, v := range variants {
		switch {
		case !ids[v.VariantOf]:
			*probs = append(*probs, Problem{File: v.File, Msg: fmt.Sprintf("variant_of %q does not name an article; variant skipped", v.VariantOf)})
		case len(v.Segments) == 0:
			*probs = append(*probs, Problem{File: v.File, Msg: "a variant needs segments (the customers it is for); variant skipped"})
		default:
			kept = append(kept, v)
		}
	}
	return kept
}

// variantKey is the key of the variant of article id for a segment.
func variantKey(id, segment string) string { return id + "\x00" + segment }

// Variant returns the variant of the article with the id for customers of
// the segment, if the content has one (the first one loaded, in file
// order, when several claim the segment).
func (k *KB) Variant(id, segment string) (*Article, bool) {
	if segment == "" {
		return nil, false
	}
	a, ok := k.variants[variantKey(id, segment)]
	return a, ok
}

func (k *KB) addVariants(vs []Article) {
	k.variants = make(map[string]*Article)
	for i := range vs {
		v := &vs[i]
		for _, seg := range v.Segments {
			if _, dup := k.variants[variantKey(v.VariantOf, seg)]; !dup {
				k.variants[variantKey(v.VariantOf, seg)] = v
			}
		}
	}
}
