package app

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// MemoryLimitFraction of the container's memory limit becomes the Go
// runtime's soft limit (GOMEMLIMIT), leaving room for what the runtime
// does not count (stacks in use, bbolt's mmap, cgo).
const MemoryLimitFraction = 0.8

// SetMemoryLimit sets the Go runtime's soft memory limit: from flag (a
// size such as "1536MiB" or "1.5GiB"; "off" leaves it alone), else from
// the GOMEMLIMIT environment variable (the runtime already applied it),
// else MemoryLimitFraction of the cgroup's memory limit (v2 memory.max or
// v1 memory.limit_in_bytes) when one is set. It returns the limit in
// force (0: none) and where it came from.
func SetMemoryLimit(flag string) (int64, string, error) {
	switch {
	case flag == "off":
		return 0, "off", nil
	case flag != "" && flag != "auto":
		n, err := ParseSize(flag)
		if err != nil {
			return 0, "", fmt.Errorf("memory-limit: %w", err)
		}
		debug.SetMemoryLimit(n)
		return n, "flag", nil
	case os.Getenv("GOMEMLIMIT") != "":
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT", nil
	}
	limit, path := CgroupMemoryLimit()
	if limit <= 0 {
		return 0, "none", nil
	}
	n := int64(float64(limit) * MemoryLimitFraction)
	debug.SetMemoryLimit(n)
	return n, fmt.Sprintf("%.0f%% of the cgroup limit %d (%s)", MemoryLimitFraction*100, limit, path), nil
}

// CgroupMemoryLimit returns the memory limit of this process's cgroup and
// the file it was read from (0 when there is none or it is unlimited).
func CgroupMemoryLimit() (int64, string) {
	var cands []string
	if f, err := os.Open("/proc/self/cgroup"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			parts := strings.SplitN(sc.Text(), ":", 3)
			if len(parts) != 3 {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				cands = append(cands, filepath.Join("/sys/fs/cgroup", parts[2], "memory.max"))
			case strings.Contains(","+parts[1]+",", ",memory,"):
				cands = append(cands, filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"))
			}
		}
		_ = f.Close()
	}
	cands = append(cands, "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, p := range cands {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, p
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= math.MaxInt64/2 {
			return 0, p // v1 says "unlimited" with a huge number
		}
		return n, p
	}
	return 0, ""
}

// ParseSize reads a byte size: a plain number, or one with a KiB, MiB,
// GiB (or KB, MB, GB: powers of 1000) suffix.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mul    float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mul := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mul
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f*mul > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is not a size (e.g. 1536MiB, 1.5GiB)", s)
	}
	return int64(f * mul), nil
}
