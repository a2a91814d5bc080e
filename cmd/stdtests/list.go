package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// The list (packages.txt): one package a line, which must pass; or
// "-PACKAGE: reason" for one tried and left out. '#' starts a comment.

// listed is the list as read.
type listed struct {
	packages []string
	leftOut  map[string]string // package -> reason
}

func readList(path string) (listed, error) {
	f, err := os.Open(path)
	if err != nil {
		return listed{}, err
	}
	defer f.Close()
	l := listed{leftOut: map[string]string{}}
	seen := map[string]bool{}
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line, _, _ := strings.Cut(s.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		pkg, reason, out := line, "", false
		if rest, ok := strings.CutPrefix(line, "-"); ok {
			out = true
			var found bool
			if pkg, reason, found = strings.Cut(rest, ":"); !found || strings.TrimSpace(reason) == "" {
				return l, fmt.Errorf("%s:%d: a package left out says why: -PACKAGE: reason", path, n)
			}
		}
		pkg = strings.TrimSpace(pkg)
		if strings.ContainsAny(pkg, " \t") {
			return l, fmt.Errorf("%s:%d: %q is not a package path", path, n, pkg)
		}
		if seen[pkg] {
			return l, fmt.Errorf("%s:%d: %s is listed twice", path, n, pkg)
		}
		seen[pkg] = true
		if out {
			l.leftOut[pkg] = strings.TrimSpace(reason)
		} else {
			l.packages = append(l.packages, pkg)
		}
	}
	return l, s.Err()
}
