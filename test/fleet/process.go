package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
)

// stopTimeout is how long a process gets between SIGTERM and SIGKILL.
const stopTimeout = 15 * time.Second

// process is one child of the fleet. Its pid is recorded in a file while it
// runs, so `argosy-fleet down` or a later Start can find it after a crash.
type process struct {
	name    string // <cluster>-<component>; names the log and the record
	path    string
	args    []string
	env     []string // added to the inherited environment
	logPath string
	recPath string
	// appendLog keeps the log of an earlier run (a restart); a fresh start
	// truncates what an earlier fleet in the same Dir left.
	appendLog bool

	cmd  *exec.Cmd
	done chan struct{} // closed once the process was waited for
	err  error         // exit status, set before done is closed
}

// start launches the process through sp, appending its output to the log.
func (p *process) start(sp *spawner, log logr.Logger) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if !p.appendLog {
		flags |= os.O_TRUNC
	}
	logf, err := os.OpenFile(p.logPath, flags, 0o644)
	if err != nil {
		return err
	}
	// The parent's copy of the log file is closed once the child has it.
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s: %s %s\n", time.Now().Format(time.RFC3339), p.path, strings.Join(p.args, " "))

	cmd := exec.Command(p.path, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), p.env...)
	cmd.SysProcAttr = sysProcAttr()
	if err := sp.start(cmd); err != nil {
		return fmt.Errorf("fleet: start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	rec := ProcessRecord{PID: cmd.Process.Pid, Path: p.path, Args: p.args}
	if err := writeRecord(p.recPath, rec); err != nil {
		log.Error(err, "cannot record pid", "process", p.name, "pid", rec.PID)
	}
	go func() {
		p.err = cmd.Wait()
		// The pid is no longer ours once waited for: drop its record.
		_ = os.Remove(p.recPath)
		close(p.done)
	}()
	log.V(1).Info("started", "process", p.name, "pid", rec.PID)
	return nil
}

// exited reports whether the process ended (crashed, or stopped).
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after stopTimeout,
// and returns once the process was waited for.
func (p *process) stop(log logr.Logger) {
	if p == nil || p.cmd == nil || p.exited() {
		return
	}
	// The child leads its own process group (Setpgid), so the group holds
	// only what it started, never the caller's processes.
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		log.Info("did not stop in time, killing", "process", p.name, "pid", pgid, "timeout", stopTimeout)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	log.V(1).Info("stopped", "process", p.name, "pid", pgid)
}

// kill sends SIGKILL to the process group and returns once the process
// was waited for.
func (p *process) kill(log logr.Logger) {
	if p == nil || p.cmd == nil || p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	log.V(1).Info("killed", "process", p.name, "pid", pgid)
}

// logTail returns the last n lines of the process's log, for error messages.
func (p *process) logTail(n int) string {
	return TailFile(p.logPath, n)
}

// TailFile returns the last n lines of a file, or "" when it cannot be read.
func TailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// spawner starts every child from one goroutine locked to its OS thread.
// Pdeathsig fires when the *thread* that forked a child exits, not the
// process; Go may retire threads, so forking from arbitrary goroutines could
// kill children early. The locked thread lives until close, and then exits
// because the goroutine returns still locked, taking leftover children
// (with Pdeathsig) down with it.
type spawner struct {
	mu     sync.Mutex
	closed bool
	reqs   chan func()
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan func())}
	go func() {
		runtime.LockOSThread() // never unlocked, see above
		for f := range s.reqs {
			f()
		}
	}()
	return s
}

var errStopped = errors.New("fleet: stopped")

func (s *spawner) start(cmd *exec.Cmd) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStopped
	}
	errc := make(chan error, 1)
	s.reqs <- func() { errc <- cmd.Start() }
	return <-errc
}

func (s *spawner) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.reqs)
	}
}

// ProcessRecord is the content of a pid record file: enough to recognise the
// process later, so that only processes we started are ever signalled.
type ProcessRecord struct {
	PID  int      `json:"pid"`
	Path string   `json:"path"`
	Args []string `json:"args"`
	// File is the record's own path (not stored).
	File string `json:"-"`
}

// Alive reports whether PID runs and still has the recorded command line,
// which rules out a recycled pid.
func (r ProcessRecord) Alive() bool {
	if r.PID <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", r.PID))
	if err != nil || len(b) == 0 { // gone, or a zombie
		return false
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	return slices.Equal(got, append([]string{r.Path}, r.Args...))
}

// WriteRecord writes r to file atomically.
func WriteRecord(file string, r ProcessRecord) error { return writeRecord(file, r) }

func writeRecord(file string, r ProcessRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// ReadRecord reads one pid record file.
func ReadRecord(file string) (ProcessRecord, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return ProcessRecord{}, err
	}
	var r ProcessRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return ProcessRecord{}, fmt.Errorf("fleet: %s: %w", file, err)
	}
	r.File = file
	return r, nil
}

// Records returns the pid records of the fleet in dir (Dir/pids/*.json).
func Records(dir string) ([]ProcessRecord, error) {
	files, err := filepath.Glob(filepath.Join(dir, "pids", "*.json"))
	if err != nil {
		return nil, err
	}
	var recs []ProcessRecord
	for _, f := range files {
		r, err := ReadRecord(f)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) { // removed meanwhile: exited
				continue
			}
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// Reap ends the processes recorded in dir that still run with their recorded
// command line (SIGTERM, SIGKILL after a timeout), and removes all records.
// It is for processes a crashed or killed fleet left behind; a live Fleet
// stops its own with Stop.
func Reap(ctx context.Context, dir string, log logr.Logger) error {
	recs, err := Records(dir)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, r := range recs {
		if !r.Alive() {
			_ = os.Remove(r.File)
			continue
		}
		wg.Go(func() {
			log.Info("stopping leftover process", "pid", r.PID, "path", r.Path)
			TerminatePID(ctx, r, stopTimeout)
			_ = os.Remove(r.File)
		})
	}
	wg.Wait()
	return nil
}

// TerminatePID ends a recorded process that is not our child: SIGTERM, then
// SIGKILL after timeout or when ctx ends, polling /proc until it is gone.
// It signals r.PID only, and only while r.Alive().
func TerminatePID(ctx context.Context, r ProcessRecord, timeout time.Duration) {
	if !r.Alive() {
		return
	}
	_ = syscall.Kill(r.PID, syscall.SIGTERM)
	if waitGone(ctx, r, timeout) || !r.Alive() {
		return
	}
	_ = syscall.Kill(r.PID, syscall.SIGKILL)
	waitGone(context.Background(), r, 5*time.Second)
}

// waitGone polls until r is no longer alive; false on timeout or ctx end.
func waitGone(ctx context.Context, r ProcessRecord, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for r.Alive() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// rss returns the resident set size of pid in bytes, from /proc/<pid>/status.
func rss(pid int) int64 { return procStatusBytes(pid, "VmRSS:") }

// procStatusBytes reads a "<field> <n> kB" line of /proc/<pid>/status, in
// bytes; 0 when it cannot be read.
func procStatusBytes(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte(field)); ok {
			var kb int64
			fmt.Sscanf(string(bytes.TrimSpace(rest)), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}
