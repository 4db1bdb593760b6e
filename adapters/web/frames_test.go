package web

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeFrame feeds the customer websocket's frame decoder whatever
// a client might send. It must never panic, refuse without a half-filled
// frame, and accept only frames that encode again to themselves. Seeds
// are in testdata/fuzz/FuzzDecodeFrame.
func FuzzDecodeFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeFrame(data)
		if err != nil {
			if fr != (inFrame{}) {
				t.Errorf("refused %q (%v) but returned %+v", data, err, fr)
			}
			return
		}
		enc, err := json.Marshal(fr)
		if err != nil {
			t.Fatalf("accepted %q as %+v, which does not encode: %v", data, fr, err)
		}
		again, err := decodeFrame(enc)
		if err != nil || again != fr {
			t.Fatalf("accepted %q as %+v; encoded as %s it decodes to %+v (%v)", data, fr, enc, again, err)
		}
	})
}
