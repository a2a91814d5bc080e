package qemu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Results: the files a program leaves for the host (go test -cover's
// counters, -coverprofile, CPU profiles) come back on the machine's
// second serial port, COM2 (I/O 0x2f8), which Config.Results makes a
// host file. The kernel exports the regular files of its tmpfs under
// ExportDir as they are settled (their last writable descriptor closed,
// or renamed there), each as
//
//	hurdvm-file SIZE PATH\n
//	SIZE bytes
//
// SIZE in decimal, PATH the guest's absolute path. A file may come more
// than once (the last one is the file); a file renamed comes under both
// names.

// ExportDir is the guest directory whose files come back to the host.
// The kernel creates it, and ExportDir/gocoverdir in it (go test's
// -test.gocoverdir must exist before the run: testing does not create it).
const ExportDir = "/tmp/hurdvm-export"

// resultHeader starts each file in the stream.
const resultHeader = "hurdvm-file "

// maxResultSize bounds one file's SIZE, so that a corrupted header is an
// error rather than an allocation of anything.
const maxResultSize = 1 << 30

// ResultFile is one file as the kernel sent it.
type ResultFile struct {
	Path string // the guest's absolute path
	Data []byte
}

// ReadResults parses the stream of files from COM2. A stream that stops
// inside a file (the kernel died while sending) or holds something other
// than a header where one belongs returns the whole files before it and
// an error saying where.
func ReadResults(r io.Reader) ([]ResultFile, error) {
	br := bufio.NewReader(r)
	var files []ResultFile
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return files, nil
		}
		if err != nil && err != io.EOF {
			return files, err
		}
		path, size, herr := parseResultHeader(line)
		if herr != nil {
			return files, fmt.Errorf("results stream, after %d files: %w", len(files), herr)
		}
		data := make([]byte, size)
		if n, err := io.ReadFull(br, data); err != nil {
			return files, fmt.Errorf("results stream: %s is cut short: %d of %d bytes", path, n, size)
		}
		files = append(files, ResultFile{Path: path, Data: data})
	}
}

func parseResultHeader(line string) (string, int64, error) {
	rest, ok := strings.CutPrefix(line, resultHeader)
	if !ok || !strings.HasSuffix(rest, "\n") {
		return "", 0, fmt.Errorf("%q is not a header %q", truncate(line, 60), resultHeader+"SIZE PATH")
	}
	num, path, ok := strings.Cut(strings.TrimSuffix(rest, "\n"), " ")
	size, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || size < 0 || size > maxResultSize || !strings.HasPrefix(path, "/") {
		return "", 0, fmt.Errorf("bad header %q", truncate(line, 60))
	}
	return path, size, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Outputs says where the files the program leaves in ExportDir go on the
// host: a file to a file (-test.coverprofile), a directory's files to a
// directory's (-test.gocoverdir).
type Outputs struct {
	files map[string]string // guest path -> host path
	dirs  map[string]string // guest directory -> host directory
}

// File sends the guest file guest to host.
func (o *Outputs) File(guest, host string) {
	if o.files == nil {
		o.files = map[string]string{}
	}
	o.files[guest] = host
}

// Dir sends the files directly in the guest directory guest to the host
// directory host.
func (o *Outputs) Dir(guest, host string) {
	if o.dirs == nil {
		o.dirs = map[string]string{}
	}
	o.dirs[guest] = host
}

// Empty: nothing is expected back.
func (o *Outputs) Empty() bool { return len(o.files) == 0 && len(o.dirs) == 0 }

// HostPath is where the guest file guest goes, if anywhere.
func (o *Outputs) HostPath(guest string) (string, bool) {
	if h, ok := o.files[guest]; ok {
		return h, true
	}
	dir, name := filepath.Split(guest)
	if h, ok := o.dirs[strings.TrimSuffix(dir, "/")]; ok && name != "" {
		return filepath.Join(h, name), true
	}
	return "", false
}

// Missing lists the host files no result was delivered to: a program
// that ran to its end but did not write what go test asked for.
func (o *Outputs) Missing(delivered []string) []string {
	got := map[string]bool{}
	for _, d := range delivered {
		got[d] = true
	}
	var out []string
	for _, h := range o.files {
		if !got[h] {
			out = append(out, h)
		}
	}
	return out
}

// Deliver writes each file to its host path, in stream order (a later
// copy of a file replaces an earlier one). It returns the host paths
// written and the guest paths that had no place on the host. A counter
// file of -test.gocoverdir whose name is taken by different contents
// (two test binaries' counters named alike, the guest's pid and clock
// being the same in both) is given a name of its own.
func (o *Outputs) Deliver(files []ResultFile) (written, unclaimed []string, err error) {
	chosen := map[string]string{} // guest path -> host path, once decided
	for _, f := range files {
		host, ok := chosen[f.Path]
		if !ok {
			if host, ok = o.HostPath(f.Path); !ok {
				unclaimed = append(unclaimed, f.Path)
				continue
			}
			if strings.HasPrefix(filepath.Base(host), "covcounters.") {
				host = freeName(host, f.Data)
			}
			chosen[f.Path] = host
			written = append(written, host)
		}
		if err := os.MkdirAll(filepath.Dir(host), 0o777); err != nil {
			return written, unclaimed, err
		}
		if err := os.WriteFile(host, f.Data, 0o666); err != nil {
			return written, unclaimed, err
		}
	}
	return written, unclaimed, nil
}

// freeName is host, or, when host exists with other contents, host with
// its last field (the guest's clock: covcounters.HASH.PID.NANOTIME)
// counted up until the name is free: go tool covdata reads only names of
// that form, and pairs them with their meta-data file by HASH.
func freeName(host string, data []byte) string {
	dot := strings.LastIndex(host, ".")
	n, err := strconv.ParseUint(host[dot+1:], 10, 64)
	if err != nil {
		return host
	}
	for {
		old, err := os.ReadFile(host)
		if errors.Is(err, os.ErrNotExist) || (err == nil && bytes.Equal(old, data)) {
			return host
		}
		n++
		host = host[:dot+1] + strconv.FormatUint(n, 10)
	}
}
