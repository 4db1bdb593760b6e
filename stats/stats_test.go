package stats

import (
	"reflect"
	"testing"
	"time"
)

func TestDurationsAreNearestRank(t *testing.T) {
	cases := []struct {
		in   []int32
		want Durations
	}{
		{nil, Durations{}},
		{[]int32{7}, Durations{Count: 1, P50: 7, P90: 7}},
		{[]int32{600, 120}, Durations{Count: 2, P50: 120, P90: 600}},
		{[]int32{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, Durations{Count: 10, P50: 5, P90: 9}},
	}
	for _, c := range cases {
		if got := durations(c.in); got != c.want {
			t.Errorf("durations(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestSubUndoesAdd(t *testing.T) {
	base := Day{Conversations: 2, Deflected: 1, Handoffs: map[string]int{"requested": 1}, Waits: []int32{5, 9},
		Helpful: map[string][2]int{"a": {1, 0}}, Hours: [24]int{3: 2}}
	o := Day{Conversations: 1, Handoffs: map[string]int{"requested": 1, "frustration": 1}, Waits: []int32{9},
		FirstResponses: []int32{30}, Ratings: 1, RatingSum: 5, Helpful: map[string][2]int{"b": {0, 1}}, Hours: [24]int{4: 1}, FollowupsSent: 1}
	d := base
	d.Handoffs = map[string]int{"requested": 1}
	d.Helpful = map[string][2]int{"a": {1, 0}}
	d.Waits = []int32{5, 9}
	d.Add(&o)
	if d.Conversations != 3 || d.Handoffs["requested"] != 2 || len(d.Waits) != 3 {
		t.Fatalf("after Add: %+v", d)
	}
	d.Sub(&o)
	if len(d.FirstResponses) == 0 {
		d.FirstResponses = nil
	}
	if !reflect.DeepEqual(d, base) {
		t.Errorf("Sub did not undo Add:\n got %+v\nwant %+v", d, base)
	}
	if (&Day{}).Empty() != true || d.Empty() {
		t.Error("Empty is wrong")
	}
}

func TestSummarizeFillsEveryDay(t *testing.T) {
	from := time.Date(2026, 11, 1, 15, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 3, 1, 0, 0, 0, time.UTC)
	s := Summarize(map[string]Day{"2026-11-02": {Conversations: 4, Deflected: 3}}, from, to)
	if len(s.Days) != 3 || s.Days[1].Day != "2026-11-02" || s.Days[1].DeflectionRate != 0.75 || s.DeflectionRate != 0.75 {
		t.Errorf("summary %+v", s)
	}
}
