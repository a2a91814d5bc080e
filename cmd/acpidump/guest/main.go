// Command guest is the /init of the initramfs cmd/acpidump boots under
// Debian's Linux in QEMU: it prints the machine's ACPI tables on the serial
// console, base64-encoded between marker lines, for the host side to
// decode into kernel/acpi's testdata.
//
// What it prints, each as one record:
//
//	log            Linux's kernel log (klogctl): its "ACPI: XXXX 0x<address>
//	               <length>" lines say where the firmware put every table,
//	               the RSDP, RSDT and XSDT included
//	sysfs/NAME     every table Linux exposes in /sys/firmware/acpi/tables
//	               (not the RSDP, RSDT or XSDT: Linux never lists those)
//	systab         /sys/firmware/efi/systab under UEFI: where the firmware
//	               says the RSDP is (ACPI20=, ACPI=)
//	mem/ADDR       /dev/mem at the BIOS data area, the EBDA and 0xE0000-0xFFFFF,
//	               which the host compares with what QEMU reads (or the
//	               error /dev/mem gave, as text)
//
// Then it prints the end marker and waits: the host reads the tables, at
// the addresses the log gives, and the first MiB of memory through QEMU's
// QMP, and quits QEMU. /dev/mem cannot serve there (see cmd/acpidump).
package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// The markers the host looks for (the host package has the same strings).
const (
	beginRecord = "acpidump: begin "
	endRecord   = "acpidump: end"
	endAll      = "acpidump: done"
	failure     = "acpidump: error: "
)

func main() {
	out := os.Stdout
	if err := run(out); err != nil {
		fmt.Fprintf(out, "%s%v\n", failure, err)
	}
	fmt.Fprintln(out, endAll)
	// Wait for the host to quit QEMU. Not select{}: with no other
	// goroutine the runtime calls that a deadlock and exits, Linux panics
	// and QEMU (-no-reboot) ends while the host is still reading memory.
	for {
		time.Sleep(time.Hour)
	}
}

func run(out *os.File) error {
	os.Mkdir("/sys", 0o555)
	if err := syscall.Mount("sysfs", "/sys", "sysfs", 0, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}

	log, err := kernelLog()
	if err != nil {
		return err
	}
	emit(out, "log", log)

	names, err := sysfsTables()
	if err != nil {
		return err
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("/sys/firmware/acpi/tables", n))
		if err != nil {
			return err
		}
		emit(out, "sysfs/"+n, b)
	}
	if b, err := os.ReadFile("/sys/firmware/efi/systab"); err == nil {
		emit(out, "systab", b)
	}

	// For the host's comparison with QEMU's own reading of low memory.
	bda := emitMem(out, 0x400, 0x100)
	if len(bda) == 0x100 {
		if ebda := uint64(bda[0x0e]) | uint64(bda[0x0f])<<8; ebda != 0 {
			emitMem(out, ebda<<4, 1024)
		}
	}
	emitMem(out, 0xE0000, 0x20000)
	return nil
}

// kernelLog returns Linux's whole kernel log (SYSLOG_ACTION_READ_ALL).
func kernelLog() ([]byte, error) {
	buf := make([]byte, 1<<20)
	n, err := syscall.Klogctl(3, buf)
	if err != nil {
		return nil, fmt.Errorf("klogctl: %w", err)
	}
	return buf[:n], nil
}

// sysfsTables lists the tables in /sys/firmware/acpi/tables (its
// subdirectories, data/ and dynamic/, are left out).
func sysfsTables() ([]string, error) {
	ents, err := os.ReadDir("/sys/firmware/acpi/tables")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// emitMem prints /dev/mem's n bytes at pa, or the error reading them, and
// returns the bytes.
func emitMem(out *os.File, pa uint64, n int) []byte {
	b := make([]byte, n)
	mem, err := os.Open("/dev/mem")
	if err == nil {
		_, err = mem.ReadAt(b, int64(pa))
		mem.Close()
	}
	if err != nil {
		emit(out, fmt.Sprintf("mem-error/%#x", pa), []byte(err.Error()))
		return nil
	}
	emit(out, fmt.Sprintf("mem/%#x", pa), b)
	return b
}

// emit prints one record: the begin marker with its name and length, the
// bytes in base64 lines of 76 characters, the end marker.
func emit(out *os.File, name string, b []byte) {
	var w bytes.Buffer
	fmt.Fprintf(&w, "%s%s %d\n", beginRecord, name, len(b))
	s := base64.StdEncoding.EncodeToString(b)
	for len(s) > 76 {
		w.WriteString(s[:76])
		w.WriteByte('\n')
		s = s[76:]
	}
	if s != "" {
		w.WriteString(s)
		w.WriteByte('\n')
	}
	w.WriteString(endRecord + "\n")
	out.Write(w.Bytes())
}
