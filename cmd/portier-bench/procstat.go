package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Process figures from /proc: CPU time in clock ticks (utime+stime of
// /proc/<pid>/stat) and the peak resident set (VmHWM of /proc/<pid>/status).

// clockTicks is sysconf(_SC_CLK_TCK), read once with getconf (100 on Linux).
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// ticksToDuration converts clock ticks to a duration.
func ticksToDuration(t int64) time.Duration {
	return time.Duration(float64(t) / clockTicks * float64(time.Second))
}

// procStat is the part of /proc/<pid>/stat the benchmark reads.
type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime int64
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after the last ')' start with field 3 (state).
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	num := func(k int) int64 { n, _ := strconv.ParseInt(f[k], 10, 64); return n }
	// f[0] is field 3; ppid is field 4, utime..cstime are fields 14..17.
	return procStat{ppid: int(num(1)), utime: num(11), stime: num(12), cutime: num(13), cstime: num(14)}, nil
}

// processCPU is the CPU time (ticks) a process has used so far, its own
// threads only.
func processCPU(pid int) (int64, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	return st.utime + st.stime, nil
}

// treeCPU is the CPU time (ticks) of a PostgreSQL cluster: the postmaster,
// its live children (backends, background workers), and the children it has
// already reaped (cutime/cstime), so a backend that exits in between is
// still counted in full.
func treeCPU(root int) (int64, error) {
	st, err := readProcStat(root)
	if err != nil {
		return 0, err
	}
	total := st.utime + st.stime + st.cutime + st.cstime
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		c, err := readProcStat(pid)
		if err != nil || c.ppid != root {
			continue // gone meanwhile, or not a child
		}
		total += c.utime + c.stime
	}
	return total, nil
}

// peakRSS is VmHWM of the process in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return 0, err
				}
				return kb << 10, nil
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}

// resetPeakRSS sets the process's VmHWM back to its current RSS (writing 5
// to /proc/<pid>/clear_refs, Linux ≥ 4.0), so that the next reading is the
// peak of the phase that follows.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// selfCPU is this process's CPU time (ticks).
func selfCPU() int64 {
	n, _ := processCPU(os.Getpid())
	return n
}
