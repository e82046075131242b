package dispatch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/api"
	"github.com/chargewatch/chargewatch/alerting/dispatch"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
)

// TestAlertPageCallsTheAPI checks every API call of the alert page's
// script against the routes the API registers, so that the page cannot
// drift from the API unnoticed.
func TestAlertPageCallsTheAPI(t *testing.T) {
	d, err := dispatch.Open(context.Background(), filepath.Join(t.TempDir(), "dispatch.db"),
		dispatch.Options{Registry: fixture.Registry{S: fixture.Snapshot(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/alerts/42", nil)
	req.SetPathValue("id", "42")
	d.AlertPage().ServeHTTP(w, req)
	_, js, _ := strings.Cut(w.Body.String(), "<script>")
	js, _, _ = strings.Cut(js, "</script>")

	// The API's routes, as a mux that finds the pattern of a request.
	routes := http.NewServeMux()
	for _, p := range api.Patterns() {
		routes.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	// call('METHOD', '/path/' + id + '/rest', ...)
	re := regexp.MustCompile(`call\('([A-Z]+)', '([^']+)'(?: \+ id)?(?: \+ '([^']*)')?`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(js, -1) {
		path := m[2]
		if strings.Contains(m[0], "+ id") {
			path += "42" + m[3]
		}
		r := httptest.NewRequest(m[1], path, nil)
		_, pattern := routes.Handler(r)
		if !strings.HasPrefix(pattern, m[1]+" ") {
			t.Errorf("the page calls %s %s: the API has no such route (%q)", m[1], path, pattern)
		}
		got = append(got, m[1]+" "+path)
	}
	slices.Sort(got)
	want := []string{"GET /api/v1/alerts/42", "GET /api/v1/alerts/42/deliveries", "POST /api/v1/alerts/42/ack", "POST /api/v1/alerts/42/close"}
	if !slices.Equal(got, want) {
		t.Errorf("the page's API calls: %q, want %q", got, want)
	}
	// Every fetch goes through call.
	if n := strings.Count(js, "fetch("); n != 1 {
		t.Errorf("%d fetch calls; want the one in call()", n)
	}
	// The outcomes offered are the API's.
	om := regexp.MustCompile(`const outcomes = \[([^\]]*)\]`).FindStringSubmatch(js)
	if om == nil {
		t.Fatal("no outcomes in the script")
	}
	for _, o := range strings.Split(om[1], ",") {
		if o = strings.Trim(strings.TrimSpace(o), "'"); !alerting.Outcome(o).Valid() {
			t.Errorf("the page offers outcome %q: the API refuses it", o)
		}
	}
}
