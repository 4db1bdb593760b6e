package transfer

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/store/postgres"
)

// compareFiles names each file the database holds otherwise than it was
// read: missing, of another size, of other bytes, or not read at all.
func TestCompareFilesNamesEachDifference(t *testing.T) {
	d := func(s string) postgres.FileDigest {
		return postgres.FileDigest{Size: int64(len(s)), SHA256: sha256.Sum256([]byte(s))}
	}
	read := map[string]postgres.FileDigest{"con_1/att_1": d("same"), "con_1/att_2": d("abcd"), "con_1/att_3": d("short"), "con_2/att_4": d("gone")}
	if err := compareFiles(read, map[string]postgres.FileDigest{"con_1/att_1": d("same"), "con_1/att_2": d("abcd"), "con_1/att_3": d("short"), "con_2/att_4": d("gone")}); err != nil {
		t.Errorf("identical files: %v", err)
	}
	stored := map[string]postgres.FileDigest{"con_1/att_1": d("same"), "con_1/att_2": d("abce"), "con_1/att_3": d("shor"), "con_9/att_9": d("extra")}
	err := compareFiles(read, stored)
	if err == nil {
		t.Fatal("differing files compared equal")
	}
	for _, want := range []string{"con_1/att_2: the database holds other bytes", "con_1/att_3: read 5 bytes, the database holds 4",
		"con_2/att_4: missing", "con_9/att_9: not read, but in the database"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "att_1") {
		t.Errorf("error %q names an identical file", err)
	}
}
