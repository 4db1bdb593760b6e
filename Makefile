# The README's commands. `make test` is what .ci/run calls.
.PHONY: test build serve bench eval

test:
	gofmt -l . | (! grep .) || (echo "gofmt needed on the files above" && exit 1)
	go vet ./...
	go test -race ./...

build:
	go build -o frontdesk ./cmd/frontdesk

serve:
	go run ./cmd/frontdesk serve

bench:
	go test -run '^$$' -bench . -benchmem ./kb/ ./bot/ ./handoff/

# Quality on the shared labelled sets (../shared/data).
eval:
	go run ./cmd/frontdesk eval --train ../shared/data/clinc150/train.jsonl --val ../shared/data/clinc150/val.jsonl --test ../shared/data/clinc150/val.jsonl
