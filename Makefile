# The README's commands. `make test` is what .ci/run calls.
.PHONY: test build serve bench eval eval-slips fuzz release

# The version stamped into binaries: the nearest tag, commits since it and
# the commit (v1.2.0-3-gabc1234), with -dirty for uncommitted changes.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

test:
	gofmt -l . | (! grep .) || (echo "gofmt needed on the files above" && exit 1)
	go vet ./...
	go test -race -timeout 25m ./...

# A short run of each fuzzer (their seed corpora also run in `test`):
# 30,000 inputs each, about ten seconds here. A count, not a duration:
# with -fuzztime 10s, Go 1.26's fuzz coordinator sometimes reports its own
# deadline as a failure ("context deadline exceeded", no failing input;
# golang/go#75804, fixed in Go 1.27), which failed .ci/run twice here.
fuzz:
	go test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime 30000x ./adapters/web/
	go test -run '^$$' -fuzz '^FuzzLoadArticle$$' -fuzztime 30000x ./kb/
	go test -run '^$$' -fuzz '^FuzzTokenize$$' -fuzztime 30000x ./kb/
	go test -run '^$$' -fuzz '^FuzzASCIITokens$$' -fuzztime 30000x ./kb/
	go test -run '^$$' -fuzz '^FuzzWebhookUpdate$$' -fuzztime 30000x ./adapters/telegram/

build:
	go build -ldflags "-X main.version=$(VERSION)" -o frontdesk ./cmd/frontdesk

# Static Linux binaries (no cgo, no paths of this machine) for amd64 and
# arm64 in dist/, with their SHA-256 sums.
release:
	rm -rf dist && mkdir -p dist
	for arch in amd64 arm64; do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch go build -trimpath -ldflags "$(LDFLAGS)" \
			-o dist/frontdesk-$(VERSION)-linux-$$arch ./cmd/frontdesk || exit 1; \
	done
	cd dist && sha256sum frontdesk-* > SHA256SUMS

serve:
	go run ./cmd/frontdesk serve

bench:
	go test -run '^$$' -bench . -benchmem ./kb/ ./bot/ ./handoff/ ./store/bolt/

# Quality on the shared labelled sets (../shared/data).
eval:
	go run ./cmd/frontdesk eval --train ../shared/data/clinc150/train.jsonl --val ../shared/data/clinc150/val.jsonl --test ../shared/data/clinc150/val.jsonl

# Quality on questions with slips of the keyboard (kb/testdata/mktypos.go):
# CLINC150 val and BANKING77's held-out fifth (every 5th line of train)
# with one and then two slips in each question, and the demo shop's
# kb/testdata/demo-slips.jsonl (two slips each).
eval-slips:
	d=$$(mktemp -d) && \
	awk 'NR%5==0' ../shared/data/banking77/train.jsonl > $$d/bank-val.jsonl && \
	awk 'NR%5!=0' ../shared/data/banking77/train.jsonl > $$d/bank-train.jsonl && \
	for n in 1 2; do \
		go run kb/testdata/mktypos.go -in ../shared/data/clinc150/val.jsonl -n $$n -seed 1 -out $$d/clinc-val-$$n.jsonl && \
		go run kb/testdata/mktypos.go -in $$d/bank-val.jsonl -n $$n -seed 1 -out $$d/bank-val-$$n.jsonl && \
		go run ./cmd/frontdesk eval --train ../shared/data/clinc150/train.jsonl --test $$d/clinc-val-$$n.jsonl && \
		go run ./cmd/frontdesk eval --train $$d/bank-train.jsonl --test $$d/bank-val-$$n.jsonl || exit 1; \
	done && \
	go run ./cmd/frontdesk eval --test kb/testdata/demo-slips.jsonl
