package bolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// fill sets every field of v, through slices, maps and pointers, to
// something other than its zero value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Float64:
		v.SetFloat(1)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// shares reports the path of the first slice, map or pointer that a and b
// share, or "".
func shares(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() > 0 && a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
		for i := range min(a.Len(), b.Len()) {
			if p := shares(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Map, reflect.Pointer:
		if !a.IsNil() && a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
		if a.Kind() == reflect.Pointer && !a.IsNil() {
			return shares(a.Elem(), b.Elem(), path)
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[time.Time]() {
			return ""
		}
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				if p := shares(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

// The memo's copies must share nothing with what it keeps, whatever
// fields the records gain: a caller changing its copy would otherwise
// change the next caller's.
func TestMemoClonesShareNothing(t *testing.T) {
	var cust bot.Customer
	fill(reflect.ValueOf(&cust).Elem())
	if p := shares(reflect.ValueOf(cust), reflect.ValueOf(*cloneCustomer(&cust)), "Customer"); p != "" {
		t.Errorf("cloneCustomer shares %s: copy it in cloneCustomer", p)
	}
	var conv bot.Conversation
	fill(reflect.ValueOf(&conv).Elem())
	if p := shares(reflect.ValueOf(conv), reflect.ValueOf(*cloneConversation(&conv)), "Conversation"); p != "" {
		t.Errorf("cloneConversation shares %s: copy it in cloneConversation", p)
	}
	if !reflect.DeepEqual(cloneCustomer(&cust), &cust) || !reflect.DeepEqual(cloneConversation(&conv), &conv) {
		t.Error("a clone differs from its original")
	}
}

func TestMemoNeverServesWhatIsNotStored(t *testing.T) {
	db := open(t, tempPath(t))
	c := &bot.Customer{ID: "cus_m", Name: "Ana", Topics: []bot.Topic{{ArticleID: "a", Title: "A"}}}
	if err := db.SaveCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A caller changing its copy changes nothing stored or memoised.
	got, err := db.Customer(ctx, "cus_m")
	if err != nil {
		t.Fatal(err)
	}
	got.Name, got.Topics[0].Title = "Eve", "changed"
	if again, _ := db.Customer(ctx, "cus_m"); again.Name != "Ana" || again.Topics[0].Title != "A" {
		t.Errorf("a caller's change leaked into the next read: %+v", again)
	}
	// An act that writes the customer and then fails is rolled back:
	// the memo must not serve what it wrote.
	failure := errors.New("no")
	err = db.Update(ctx, func(tx bot.Tx) error {
		c2, err := tx.Customer("cus_m")
		if err != nil {
			return err
		}
		c2.Name = "Rolled back"
		if err := tx.PutCustomer(c2); err != nil {
			return err
		}
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatalf("act: %v", err)
	}
	if got, _ := db.Customer(ctx, "cus_m"); got.Name != "Ana" {
		t.Errorf("after a rolled-back act the name is %q, want Ana", got.Name)
	}
	// A write that bypasses the memo is read.
	err = db.bolt.Update(func(btx *bbolt.Tx) error {
		data, _ := json.Marshal(&bot.Customer{ID: "cus_m", Name: "Written behind its back"})
		return btx.Bucket(bucketCustomers).Put([]byte("cus_m"), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Customer(ctx, "cus_m"); got.Name != "Written behind its back" {
		t.Errorf("name %q, want the one written past the memo", got.Name)
	}
	// Forgetting the customer leaves nothing of them in the memo.
	if _, err := db.ForgetCustomer(ctx, "cus_m"); err != nil {
		t.Fatal(err)
	}
	if n := len(db.memos.customers.m); n != 0 {
		t.Errorf("%d customers memoised after forgetting", n)
	}
}

// The memo stays within memoSize records however many are read.
func TestMemoIsBounded(t *testing.T) {
	var m memo[bot.Conversation]
	for i := range memoSize + 50 {
		m.keep(fmt.Sprint("con_", i), []byte("{}"), &bot.Conversation{})
	}
	if n := len(m.m); n != memoSize {
		t.Errorf("%d conversations memoised, want %d", n, memoSize)
	}
	// Keeping a record again replaces it, evicting nothing.
	m.keep("con_7", []byte("{}"), &bot.Conversation{})
	m.keep("con_7", []byte("{}"), &bot.Conversation{})
	if n := len(m.m); n != memoSize {
		t.Errorf("%d conversations memoised after a replacement, want %d", n, memoSize)
	}
}
