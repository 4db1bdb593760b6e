// Package kb is Frontdesk's knowledge base: it loads and validates the
// articles a business writes (Markdown with front matter, a synonyms file,
// out-of-scope examples), indexes them with Bleve, trains a small
// classifier on their question phrasings, and answers a question with
// ranked articles and a calibrated confidence in [0, 1]. Decide turns
// that confidence into the decision the bot acts on (answer, clarify, no
// answer) with thresholds chosen on labelled sets (Evaluate).
//
// kb is the only importer of Bleve and knows nothing of conversations,
// customers or channels. Open reuses an index stored in the data
// directory when the content has not changed.
package kb
