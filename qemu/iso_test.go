package qemu

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hurdvm/kernel/font"
)

// The ISO tests boot the USB/CD image `make iso` built (HURDVM_ISO) the
// way a PC would: SeaBIOS from a CD and from a USB stick, OVMF (UEFI) from
// the USB stick. GRUB's menu picks the entry from an SMBIOS OEM string
// (see boot/grub.cfg.in), so the image booted is exactly the one a person
// writes to a stick. `make test-iso` runs them; without HURDVM_ISO they
// skip.

const ovmf = "/usr/share/ovmf/OVMF.fd"

func isoImage(t *testing.T) string {
	t.Helper()
	iso := os.Getenv("HURDVM_ISO")
	if iso == "" {
		t.Skip("HURDVM_ISO is not set: `make test-iso` builds the image and boots it")
	}
	if testing.Short() {
		t.Skip("boots QEMU; -short skips it")
	}
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(iso); err != nil {
		t.Fatal(err)
	}
	return iso
}

// Firmware and the image attached as a CD or as a USB stick (an xHCI
// controller with a USB mass-storage disk, as most PCs boot sticks).
func cdrom(iso string) []string { return []string{"-cdrom", iso} }

func usbStick(iso string) []string {
	return []string{"-device", "qemu-xhci", "-device", "usb-storage,drive=stick",
		"-drive", "if=none,id=stick,format=raw,readonly=on,file=" + iso}
}

func uefi(t *testing.T) []string {
	if _, err := os.Stat(ovmf); err != nil {
		t.Fatalf("UEFI firmware: %v (apt-get install ovmf)", err)
	}
	return []string{"-bios", ovmf}
}

// bootEntry makes GRUB boot the menu entry with this id at once.
func bootEntry(id string) []string {
	return []string{"-smbios", "type=11,value=hurdvm.boot=" + id}
}

func bootISO(t *testing.T, entry string, args ...[]string) Result {
	t.Helper()
	var extra []string
	for _, a := range args {
		extra = append(extra, a...)
	}
	extra = append(extra, bootEntry(entry)...)
	start := time.Now()
	// Four CPUs: the kernel must find them in the MADT by the RSDP GRUB's
	// multiboot2 information carries (checkTestRun).
	res, err := Run(context.Background(), Config{Extra: extra, CPUs: 4, Timeout: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s booted and ran in %v (QEMU CPU time %v)", entry, time.Since(start).Round(time.Millisecond), res.CPUTime.Round(time.Millisecond))
	return res
}

// checkTestRun checks that an in-kernel test package ran and passed: go
// test's verbose lines and its final PASS on the serial console, exit
// status 0 from the kernel through isa-debug-exit.
func checkTestRun(t *testing.T, res Result, screen string) {
	t.Helper()
	out := string(res.Output)
	if res.Status != 0 {
		t.Errorf("exit status %d, want 0", res.Status)
	}
	for _, want := range []string{"hurdvm: entering the Go runtime\n", "=== RUN", "--- PASS: TestArgs", "\nPASS\n", "hurdvm: exit status 0\n", screen} {
		if !strings.Contains(out, want) {
			t.Errorf("the console lacks %q", want)
		}
	}
	if strings.Contains(out, "--- FAIL") || strings.Contains(out, "hurdvm: warning") {
		t.Errorf("failures or warnings on the console")
	}
	checkACPILine(t, res.Output, "4 CPUs (APIC IDs 0-3)", "from the boot loader")
	checkSMPLine(t, res.Output)
	t.Logf("the firmware's memory map as the kernel read it:\n%s", memoryMapLines(out))
	if t.Failed() {
		t.Logf("console:\n%s", Tail(res.Output, 60))
	}
}

func TestISOBIOSCDROM(t *testing.T) {
	iso := isoImage(t)
	t.Parallel()
	res := bootISO(t, "tests/boot", cdrom(iso))
	checkTestRun(t, res, "hurdvm: screen: text mode 80x25 at 0x00000000000b8000\n")
}

func TestISOBIOSUSBStick(t *testing.T) {
	iso := isoImage(t)
	t.Parallel()
	res := bootISO(t, "tests/boot", usbStick(iso))
	checkTestRun(t, res, "hurdvm: screen: text mode 80x25")
}

func TestISOUEFIUSBStick(t *testing.T) {
	iso := isoImage(t)
	t.Parallel()
	res := bootISO(t, "tests/boot", uefi(t), usbStick(iso))
	checkTestRun(t, res, "hurdvm: screen: framebuffer ")
	// Under UEFI the multiboot mem_upper covers 8 MiB; the kernel must
	// have used the whole memory map.
	m := regexp.MustCompile(`frame allocator: \d+ frames free \((\d+) MiB\)`).FindStringSubmatch(string(res.Output))
	if m == nil {
		t.Fatal("no frame allocator line")
	}
	var free int
	fmt.Sscan(m[1], &free)
	if free < 400 {
		t.Errorf("only %d MiB free of 512 MiB: the UEFI memory map was not used", free)
	}
}

// TestISOModuleMultiboot2: GRUB's module2 is a multiboot2 module tag; the
// file server finds the initramfs among the modules by its cpio magic, as
// it does QEMU's -initrd (TestModuleMultiboot1). The image is built here,
// with one entry, and booted under UEFI.
func TestISOModuleMultiboot2(t *testing.T) {
	isoImage(t) // make test-iso's: GRUB and xorriso are there
	image := buildKernel(t, "catfile")
	t.Parallel()
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	iso := filepath.Join(t.TempDir(), "module.iso")
	err = BuildISO(root, ISOConfig{Out: iso, Entries: []ISOEntry{{ID: "catfile", Title: "catfile", File: "catfile",
		Image: image, Args: "/init", Modules: []string{initramfsWith(t, moduleText)}}}})
	if err != nil {
		t.Fatal(err)
	}
	res := bootISO(t, "catfile", uefi(t), cdrom(iso))
	checkModule(t, res)
	checkACPILine(t, res.Output, "4 CPUs (APIC IDs 0-3)", "from the boot loader")
	checkSMPLine(t, res.Output)
}

// checkSMPLine checks every CPU the MADT gave was started: kmain reads the
// MADT and starts the CPUs by it (kernel/cpus.go, kernel/smp.go).
func checkSMPLine(t *testing.T, out []byte) {
	t.Helper()
	if want := "\nhurdvm: smp: 4 CPUs running (APIC IDs 0 1 2 3)\n"; !strings.Contains(string(out), want) {
		t.Errorf("the console lacks %q", want[1:len(want)-1])
	}
}

// memoryMapLines is the memory map the kernel printed at boot, from its
// heading to its totals (kernel/memmap/testdata keeps such maps).
func memoryMapLines(console string) string {
	start := strings.Index(console, "hurdvm: memory map")
	if start < 0 {
		return "(none)"
	}
	end := strings.Index(console[start:], "hurdvm: RAM for the kernel")
	if end < 0 {
		return console[start:]
	}
	rest := console[start+end:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	return console[start:start+end] + rest
}

// shotDir is where the screenshots are kept (HURDVM_SHOTS, the build
// directory under make), or the test's temporary directory.
func shotDir(t *testing.T) string {
	if d := os.Getenv("HURDVM_SHOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

// finished is the kernel's last line where there is no isa-debug-exit.
var finished = regexp.MustCompile(`^hurdvm: finished`)

// TestISOUEFIScreen boots the tests under OVMF as a PC without QEMU's exit
// device, takes the screen after the kernel halted and reads the text
// back off the framebuffer, glyph by glyph.
func TestISOUEFIScreen(t *testing.T) {
	iso := isoImage(t)
	t.Parallel()
	file := filepath.Join(shotDir(t), "console-uefi.png")
	args := append(append(uefi(t), usbStick(iso)...), bootEntry("tests/boot")...)
	out, err := Screenshot(context.Background(), ShotConfig{Args: args, Until: finished, PNG: file, Timeout: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "hurdvm: screen: framebuffer") {
		t.Fatalf("no framebuffer console:\n%s", Tail(out, 40))
	}
	img := readPNG(t, file)
	lines, fg := readScreen(t, img)
	t.Logf("%s: %dx%d; the text on it:\n%s", file, img.Bounds().Dx(), img.Bounds().Dy(), strings.Join(lines, "\n"))
	text := strings.Join(lines, "\n")
	for _, want := range []string{"--- PASS: TestArgs", "\nPASS\n", "hurdvm: exit status 0\n", "hurdvm: finished; the results are above. Remove the USB stick"} {
		if !strings.Contains(text, want) {
			t.Errorf("the screen does not show %q", want)
		}
	}
	// Results are coloured: PASS lines green, nothing red.
	for i, l := range lines {
		if strings.HasPrefix(l, "--- PASS") && fg[i] != (color.RGBA{0x55, 0xff, 0x55, 0xff}) {
			t.Errorf("line %q is drawn in %v, not green", l, fg[i])
		}
		if fg[i] == (color.RGBA{0xff, 0x55, 0x55, 0xff}) {
			t.Errorf("line %q is red", l)
		}
	}
}

// TestISOBIOSScreen takes the text-mode screen under SeaBIOS (QEMU draws
// it with the VGA's own font) and checks there is text on it.
func TestISOBIOSScreen(t *testing.T) {
	iso := isoImage(t)
	t.Parallel()
	file := filepath.Join(shotDir(t), "console-bios.png")
	args := append(usbStick(iso), bootEntry("tests/boot")...)
	out, err := Screenshot(context.Background(), ShotConfig{Args: args, Until: finished, PNG: file, Timeout: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "hurdvm: screen: text mode") {
		t.Fatalf("no text-mode console:\n%s", Tail(out, 40))
	}
	img := readPNG(t, file)
	lit, green := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if c.R|c.G|c.B != 0 {
				lit++
			}
			if c.G > 0xc0 && c.R < 0x80 && c.B < 0x80 {
				green++
			}
		}
	}
	t.Logf("%s: %dx%d, %d pixels lit, %d green", file, b.Dx(), b.Dy(), lit, green)
	if lit < b.Dx()*b.Dy()/50 || green == 0 {
		t.Errorf("the text screen looks empty or has no green PASS lines")
	}
}

func readPNG(t *testing.T, file string) image.Image {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// readScreen reads the framebuffer console's text off a screenshot: the
// text area is centred, in cells of font.Width x font.Height pixels; a
// pixel that is not the background (black) is part of a glyph. It returns
// each row's text (trailing blanks trimmed) and its foreground colour. A
// cell that is no glyph of the font is '�'.
func readScreen(t *testing.T, img image.Image) ([]string, []color.RGBA) {
	t.Helper()
	glyphs := map[[font.Height]byte]rune{}
	for c := 0x20; c <= 0x7e; c++ {
		var g [font.Height]byte
		for y := range g {
			g[y] = font.Row(byte(c), y)
		}
		glyphs[g] = rune(c)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w/font.Width > 200 && h/font.Height > 80 {
		t.Fatalf("%dx%d: the kernel draws large screens at scale 2; this reader does not", w, h)
	}
	cols, rows := w/font.Width, h/font.Height
	left, top := (w-cols*font.Width)/2, (h-rows*font.Height)/2
	var lines []string
	var fgs []color.RGBA
	for r := 0; r < rows; r++ {
		var line []rune
		var fg color.RGBA
		for c := 0; c < cols; c++ {
			var g [font.Height]byte
			for y := 0; y < font.Height; y++ {
				for x := 0; x < font.Width; x++ {
					p := color.RGBAModel.Convert(img.At(b.Min.X+left+c*font.Width+x, b.Min.Y+top+r*font.Height+y)).(color.RGBA)
					if p.R|p.G|p.B != 0 {
						g[y] |= 0x80 >> x
						fg = p
					}
				}
			}
			ch, ok := glyphs[g]
			if !ok {
				ch = '�'
			}
			line = append(line, ch)
		}
		lines = append(lines, strings.TrimRight(string(line), " "))
		fgs = append(fgs, fg)
	}
	// Trailing empty rows are not text.
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines, fgs = lines[:len(lines)-1], fgs[:len(fgs)-1]
	}
	return lines, fgs
}

// TestScreenShowsKernelPanic checks that a kernel panic reaches the screen
// too, not only the serial port: the breakkernel program booted by QEMU's
// -kernel (the PC text buffer, assumed) on a machine without the exit
// device, whose screen must then show red (the panic lines).
func TestScreenShowsKernelPanic(t *testing.T) {
	image := buildKernel(t, "breakkernel")
	t.Parallel()
	file := filepath.Join(t.TempDir(), "panic.png")
	out, err := Screenshot(context.Background(), ShotConfig{Args: []string{"-kernel", image}, Until: finished, PNG: file, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "hurdvm: kernel panic: page fault in the kernel") {
		t.Fatalf("no kernel panic on the console:\n%s", Tail(out, 30))
	}
	img := readPNG(t, file)
	red := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if c.R > 0xc0 && c.G < 0x80 && c.B < 0x80 {
				red++
			}
		}
	}
	if red < 200 {
		t.Errorf("the screen shows %d red pixels: no red panic lines", red)
	}
}
