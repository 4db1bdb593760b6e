#!/bin/bash
# usage: run.sh BIN LABEL [env...]; prints bank def/top1, clinc def(in/oos/prec)/top1
BIN=$1; LABEL=$2; shift 2
D=/work/shared/data
r() { env "$@" $BIN eval --json "${ARGS[@]}" 2>/dev/null | python3 -c "import json,sys;d=json.load(sys.stdin);print('%.2f/%.0f/%.2f'%(100*d['in_scope_accuracy'],100*d['oos_recall'],100*d['answer_precision']),end=' ')"; }
for s in ${SEEDS:-1 2 3}; do
 echo -n "$LABEL seed$s bank: "
 ARGS=(--train /tmp/h21-bank-train.jsonl --test /tmp/h21-bank-val.jsonl); r FD_SEED=$s "$@"
 ARGS=(--train /tmp/h21-bank-train.jsonl --test /tmp/h21-bank-val.jsonl --answer-threshold 0.000001 --clarify-threshold 0.0000001); r FD_SEED=$s "$@"
 if [ -z "$NOCLINC" ]; then
 echo -n " clinc: "
 ARGS=(--train $D/clinc150/train.jsonl --test $D/clinc150/val.jsonl); r FD_SEED=$s "$@"
 ARGS=(--train $D/clinc150/train.jsonl --test $D/clinc150/val.jsonl --answer-threshold 0.000001 --clarify-threshold 0.0000001); r FD_SEED=$s "$@"
 fi
 echo
done
