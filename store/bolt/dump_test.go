package bolt

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// Others names every non-empty part of the file that Dump does not read,
// with its count: a bucket it does not know. What Dump reads (channel
// links, API keys among them) and the indexes its records rebuild are not
// listed. Entries of the links bucket of an unknown kind are.
func TestDumpNamesWhatItLeavesBehind(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "frontdesk.db"))
	if err := db.SaveConversation(ctx, &bot.Conversation{ID: "con_1", CustomerID: "cus_1", Channel: bot.Web, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetChannelLink(ctx, bot.Telegram, "https://t.me/shop_bot?start="); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"key_1", "key_2"} {
		if err := db.PutAPIKey(ctx, bot.APIKey{ID: id, Name: id, Scope: bot.ScopeRead}); err != nil {
			t.Fatal(err)
		}
	}
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("future_thing"))
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketLinks).Put([]byte("future/x"), []byte("v")); err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []Part
	var convs int
	err = db.Dump(ctx, func(d *Dump) error {
		got = d.Others()
		return d.Conversations(func(*bot.Conversation) error { convs++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Part{{`bucket "future_thing"`, 1}, {"links entries of an unknown kind", 1}}
	if !reflect.DeepEqual(got, want) || convs != 1 {
		t.Errorf("Others() = %+v (and %d conversations), want %+v", got, convs, want)
	}
}
