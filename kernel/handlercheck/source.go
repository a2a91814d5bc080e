package handlercheck

import (
	"os"
	"regexp"
	"strings"
)

// sourceLines reads the source files the binary's line table names, to see
// which methods an interface call's line calls. Machine code cannot tell
// whose itab a register holds; the line "env.Frames.AllocTable()" can.
type sourceLines map[string][]string

var methodCall = regexp.MustCompile(`\.\s*([\pL_][\pL\pN_]*)\s*\(`)

// calledMethods returns the names called as methods on line of file
// (".Name("), nil when the file cannot be read (a binary built elsewhere,
// or with -trimpath).
func (s sourceLines) calledMethods(file string, line int) []string {
	if file == "" {
		return nil
	}
	text, ok := s[file]
	if !ok {
		b, err := os.ReadFile(file)
		if err == nil {
			text = strings.Split(string(b), "\n")
		}
		s[file] = text
	}
	if line < 1 || line > len(text) {
		return nil
	}
	var names []string
	for _, m := range methodCall.FindAllStringSubmatch(text[line-1], -1) {
		names = append(names, m[1])
	}
	return names
}
