package ratelimit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBucket(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 5, 20, 0, 0, 0, time.UTC)}
	l := New(0.5, 3, 0) // 3 at once, then one every 2 s
	l.SetClock(c.now)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("action %d refused within the burst", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 2*time.Second {
		t.Fatalf("4th action: %v, wait %v", ok, wait)
	}
	if blocked, wait := l.Blocked("a"); !blocked || wait != 2*time.Second {
		t.Errorf("Blocked: %v %v", blocked, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key is limited")
	}
	c.t = c.t.Add(time.Second)
	if ok, wait := l.Allow("a"); ok || wait != time.Second {
		t.Errorf("after 1 s: %v, wait %v", ok, wait)
	}
	c.t = c.t.Add(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("after 2 s: still refused")
	}
	// It never refills beyond the burst.
	c.t = c.t.Add(time.Hour)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("after an hour, action %d refused", i+1)
		}
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("the burst grew while idle")
	}
	if blocked, _ := l.Blocked("never-seen"); blocked {
		t.Error("an unknown key is blocked")
	}
}

// Many keys: the table stays bounded, idle keys are dropped, and new keys
// beyond the bound share the overflow bucket.
func TestBoundedKeys(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 5, 20, 0, 0, 0, time.UTC)}
	l := New(1, 2, 100)
	l.SetClock(c.now)
	for i := range 100 {
		l.Allow(fmt.Sprint("k", i))
	}
	if l.Len() != 100 {
		t.Fatalf("len %d", l.Len())
	}
	// The table is full of keys that still have a token spent: new keys
	// share the overflow bucket (2 tokens).
	allowed := 0
	for i := range 50 {
		if ok, _ := l.Allow(fmt.Sprint("new", i)); ok {
			allowed++
		}
	}
	if allowed != 2 || l.Len() != 100 {
		t.Errorf("overflow allowed %d, len %d", allowed, l.Len())
	}
	// Once the old keys are idle (refilled), they make room.
	c.t = c.t.Add(10 * time.Second)
	if ok, _ := l.Allow("fresh"); !ok || l.Len() != 1 {
		t.Errorf("after idling: %v, len %d", ok, l.Len())
	}
}

func BenchmarkAllow(b *testing.B) {
	l := New(1000, 1000, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Allow("10.0.0.1")
	}
}

func TestHandler(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 5, 20, 0, 0, 0, time.UTC)}
	l := New(1.0/60, 2, 0)
	l.SetClock(c.now)
	limited := 0
	h := Handler(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }), func() { limited++ })
	do := func(addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/ack/x", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i, want := range []int{204, 204, 429} {
		if got := do("10.0.0.1:5000").Code; got != want {
			t.Errorf("request %d: %d, want %d", i+1, got, want)
		}
	}
	if rec := do("10.0.0.1:5001"); rec.Code != 429 || rec.Header().Get("Retry-After") != "60" {
		t.Errorf("another port of the same address: %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got := do("10.0.0.2:5000").Code; got != 204 {
		t.Errorf("another address: %d", got)
	}
	if limited != 2 {
		t.Errorf("onLimit called %d times", limited)
	}
}
