package syscalls

import _ "embed"

// differencesText is differences.txt: the rows where hurdvm answers
// otherwise than Linux on purpose. The in-kernel test expects those
// answers on hurdvm, and cmd/parity accepts them.
//
//go:embed differences.txt
var differencesText string

// Differences parses differences.txt.
func Differences() (map[string]Difference, error) { return ParseDifferences(differencesText) }
