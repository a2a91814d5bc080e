package qemu

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

// ISOEntry is one entry of the GRUB menu on the USB/CD image.
type ISOEntry struct {
	ID    string // GRUB's --id: "demo", "tests/vm"
	Title string // what the menu shows
	File  string // the image's name under /boot on the ISO, which becomes argv[0]: "hurdvm.elf", "tests/vm.test"
	Image string // the multiboot image on the host (BuildImage's output)
	Args  string // the kernel command line after argv[0]
	// Modules are files on the host GRUB loads with the image as
	// multiboot2 modules (module2), in this order: an initramfs, say.
	Modules []string
}

// Path is where the entry's image lies inside the ISO.
func (e ISOEntry) Path() string { return "/boot/" + e.File }

// ModulePaths are where the entry's modules lie inside the ISO.
func (e ISOEntry) ModulePaths() []string {
	var p []string
	for i := range e.Modules {
		p = append(p, fmt.Sprintf("%s.module%d", e.Path(), i))
	}
	return p
}

// ISOConfig says what goes on the image.
type ISOConfig struct {
	Entries []ISOEntry // the first is GRUB's default
	Timeout int        // seconds the menu waits
	Out     string     // the ISO file to write
}

var isoID = regexp.MustCompile(`^[a-z0-9][a-z0-9_./-]*$`)

// GRUBPlatforms are the GRUB builds a hybrid BIOS and UEFI image needs,
// as Debian installs them, and the package of each.
var GRUBPlatforms = map[string]string{
	"/usr/lib/grub/i386-pc":    "grub-pc-bin",
	"/usr/lib/grub/x86_64-efi": "grub-efi-amd64-bin",
}

// BuildISO writes a hybrid ISO 9660 image with grub-mkrescue: it boots
// from a CD and, written to a USB stick with dd, as a disk; on a BIOS
// (GRUB's i386-pc) and on UEFI (x86_64-efi, from the image's EFI system
// partition). The GRUB menu (boot/grub.cfg.in under repoRoot) lists the
// entries, each a multiboot image with its command line.
func BuildISO(repoRoot string, c ISOConfig) error {
	if len(c.Entries) == 0 {
		return fmt.Errorf("no menu entries")
	}
	for dir, pkg := range GRUBPlatforms {
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("GRUB for %s is missing (apt-get install %s): %w", filepath.Base(dir), pkg, err)
		}
	}
	for _, tool := range []string{"grub-mkrescue", "xorriso", "mformat"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (apt-get install grub-common xorriso mtools): %w", tool, err)
		}
	}
	tmpl, err := template.ParseFiles(filepath.Join(repoRoot, "boot", "grub.cfg.in"))
	if err != nil {
		return err
	}
	stage, err := os.MkdirTemp(filepath.Dir(c.Out), ".iso-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	seen := map[string]bool{}
	for _, e := range c.Entries {
		if !isoID.MatchString(e.ID) || seen["id "+e.ID] {
			return fmt.Errorf("menu entry id %q: want a unique lower-case name", e.ID)
		}
		if !isoID.MatchString(e.File) || strings.Contains(e.File, "..") || strings.HasPrefix(e.File, "grub") || seen[e.File] {
			return fmt.Errorf("menu entry %s: file %q: want a unique lower-case path outside /boot/grub", e.ID, e.File)
		}
		seen["id "+e.ID], seen[e.File] = true, true
		if strings.ContainsAny(e.Title+e.Args, "\"\\$\n") {
			return fmt.Errorf("menu entry %s: title and arguments cannot carry quotes, backslashes, $ or newlines", e.ID)
		}
		dst := filepath.Join(stage, filepath.FromSlash(e.Path()))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := copyFile(e.Image, dst); err != nil {
			return err
		}
		for i, m := range e.ModulePaths() {
			if err := copyFile(e.Modules[i], filepath.Join(stage, filepath.FromSlash(m))); err != nil {
				return err
			}
		}
	}
	var cfg bytes.Buffer
	err = tmpl.Execute(&cfg, struct {
		Entries []ISOEntry
		Default string
		Timeout int
	}{c.Entries, c.Entries[0].ID, c.Timeout})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(stage, "boot", "grub"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stage, "boot", "grub", "grub.cfg"), cfg.Bytes(), 0o644); err != nil {
		return err
	}
	tmp := c.Out + ".tmp"
	cmd := exec.Command("grub-mkrescue", "-o", tmp, stage, "--", "-volid", "HURDVM")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("grub-mkrescue: %w\n%s", err, out.String())
	}
	return os.Rename(tmp, c.Out)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
