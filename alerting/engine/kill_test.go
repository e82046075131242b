package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/store"
)

const (
	killEnv  = "CW_ALERTING_KILL_DB"
	sliceEnv = "CW_ALERTING_KILL_SLICE"
)

// replayFrom feeds the script from the engine's cursor on, as an adapter
// replaying the log does: batches of 50 records, a commit after each with
// the index of the next record as cursor and the lag behind the log. It
// calls progress after each commit.
func replayFrom(t *testing.T, r *rig, progress func(next int)) {
	t.Helper()
	ctx := context.Background()
	recs := script()
	next := 0
	if c := r.e.Cursor(); c != nil {
		n, err := strconv.Atoi(string(c))
		if err != nil {
			t.Fatalf("cursor %q: %v", c, err)
		}
		next = n
	}
	r.clock.Set(t0.Add(30 * time.Hour))
	for next < len(recs) {
		batch := recs[next:min(next+50, len(recs))]
		for i, x := range batch {
			r.pos = next + i
			r.feed(x)
		}
		next += len(batch)
		lag := r.clock.Now().Sub(batch[len(batch)-1].received())
		if err := r.e.Commit(ctx, []byte(strconv.Itoa(next)), lag); err != nil {
			t.Fatal(err)
		}
		if err := r.e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		progress(next)
	}
}

// TestKillHelper is the child process of TestKill9; it does nothing in a
// normal test run.
func TestKillHelper(t *testing.T) {
	path := os.Getenv(killEnv)
	if path == "" {
		t.Skip("child process of TestKill9")
	}
	slice, _ := strconv.Atoi(os.Getenv(sliceEnv))
	r := openRig(t, path, slice)
	out := bufio.NewWriter(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	replayFrom(t, r, func(next int) {
		fmt.Fprintf(out, "committed %d\n", next)
		out.Flush()
		// Go on only when the parent says so: it can then kill us in the
		// middle of the next batch, and never more than one batch later
		// however the two processes are scheduled.
		in.Scan()
	})
	fmt.Fprintln(out, "done")
	out.Flush()
}

func openRig(t *testing.T, path string, slice int) *rig {
	r := &rig{t: t, path: path, snap: fixture.Snapshot(t), clock: fixture.NewClock(t0), slice: slice}
	r.open()
	return r
}

// trail describes alerts with their audit actions, leaving out ids and
// wall times.
func trail(t *testing.T, r *rig) []string {
	t.Helper()
	var out []string
	for _, a := range r.alerts(store.Filter{Limit: 1000}) {
		au, err := r.st.Audit(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, x := range au {
			acts = append(acts, string(x.Action))
		}
		out = append(out, essence([]*alerting.Alert{a})[0]+" audit="+strings.Join(acts, ","))
	}
	slices.Sort(out)
	return out
}

// TestKill9 kills the engine's process with SIGKILL at several points of a
// replay, restarts it each time from its committed cursor, and checks that
// the alerts and their audit logs come out exactly as in a run without
// kills: none lost, none doubled. With slices, each commit writes only a
// few device states and the cursor trails the input (by hours with slices
// of one): the replay after a restart then feeds devices whose state is
// already ahead of it.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ref := newRig(t, nil)
	replayFrom(t, ref, func(int) {})
	want := trail(t, ref)

	for _, slice := range []int{0, 1, 4} {
		t.Run(fmt.Sprintf("slice=%d", slice), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "alerts.db")
			// Kill after the 3rd, 17th and 40th commit of each life (each
			// life resumes where the last one's commits ended).
			last := ""
			for _, after := range []int{3, 17, 40} {
				cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
				cmd.Env = append(os.Environ(), killEnv+"="+path, sliceEnv+"="+strconv.Itoa(slice))
				stdout, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				stdin, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				sc := bufio.NewScanner(stdout)
				n := 0
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "committed ") {
						n++
						last = sc.Text()
						io.WriteString(stdin, "go\n")
					}
					if n == after || sc.Text() == "done" {
						break
					}
				}
				// The child is already feeding and committing its next batch.
				cmd.Process.Signal(syscall.SIGKILL)
				stdin.Close()
				err = cmd.Wait()
				t.Logf("killed after %q: %v", last, err)
				if n < after {
					t.Fatalf("child ended after %d commits: %v", n, err)
				}
			}
			// A last life in this process runs to the end.
			r := openRig(t, path, slice)
			resume, _ := strconv.Atoi(string(r.e.Cursor()))
			lastN, _ := strconv.Atoi(strings.TrimPrefix(last, "committed "))
			t.Logf("resuming from record %d; the last life committed up to %d", resume, lastN)
			if slice == 1 && resume >= lastN {
				t.Fatalf("with slices of one state the cursor should trail the input: resuming at %d, committed %d", resume, lastN)
			}
			replayFrom(t, r, func(int) {})
			got := trail(t, r)
			if !slices.Equal(got, want) {
				t.Errorf("after kills:\n  %s\nwithout:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}
