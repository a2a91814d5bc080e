package qemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// ShotConfig says how to boot a machine whose screen is wanted.
type ShotConfig struct {
	Args    []string       // firmware and disks: -bios, -drive, -device, -smbios...
	Memory  string         // -m; "" means 512M
	Until   *regexp.Regexp // the serial console line after which the screen is taken
	PNG     string         // where the screen goes
	Timeout time.Duration
	Console io.Writer // receives the serial console as it arrives (nil: discard)
}

// Screenshot boots a machine as a PC would be, without QEMU's isa-debug-exit
// device (so the kernel ends as on real hardware: it halts), waits for the
// line Until on the serial console, saves the screen (QEMU's screendump
// over QMP, a PPM) as a PNG and stops QEMU. It returns the console.
func Screenshot(ctx context.Context, c ShotConfig) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "hurdvm-shot-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "qmp")
	mem := c.Memory
	if mem == "" {
		mem = "512M"
	}
	args := append([]string{
		"-accel", "tcg", "-m", mem, "-display", "none", "-serial", "stdio",
		"-monitor", "none", "-qmp", "unix:" + sock + ",server=on,wait=off",
		"-no-reboot", "-net", "none",
	}, c.Args...)
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting qemu-system-x86_64: %w", err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()

	var out bytes.Buffer
	found := false
	r := bufio.NewReader(stdout)
	for !found {
		line, err := r.ReadBytes('\n')
		line = bytes.ReplaceAll(line, []byte("\r"), nil)
		out.Write(line)
		if c.Console != nil && len(line) > 0 {
			c.Console.Write(line)
		}
		found = c.Until.Match(bytes.TrimSuffix(line, []byte("\n")))
		if err != nil && !found {
			if ctx.Err() != nil {
				return out.Bytes(), fmt.Errorf("%w waiting for %q; last console lines:\n%s", ErrTimeout, c.Until, Tail(out.Bytes(), 20))
			}
			return out.Bytes(), fmt.Errorf("QEMU ended before %q: %v\n%s\nlast console lines:\n%s", c.Until, err, bytes.TrimSpace(stderr.Bytes()), Tail(out.Bytes(), 20))
		}
	}
	go io.Copy(io.Discard, r)
	ppm := filepath.Join(dir, "screen.ppm")
	if err := qmpScreendump(ctx, sock, ppm); err != nil {
		return out.Bytes(), err
	}
	img, err := ReadPPM(ppm)
	if err != nil {
		return out.Bytes(), err
	}
	f, err := os.Create(c.PNG)
	if err != nil {
		return out.Bytes(), err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return out.Bytes(), err
	}
	return out.Bytes(), f.Close()
}

// qmpScreendump asks QEMU over QMP to write its screen to file, then to quit.
func qmpScreendump(ctx context.Context, sock, file string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return fmt.Errorf("QMP: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	dec := json.NewDecoder(conn)
	// reply reads messages up to the next command reply, skipping events.
	reply := func() error {
		for {
			var m struct {
				Greeting json.RawMessage `json:"QMP"`
				Return   json.RawMessage `json:"return"`
				Error    *struct{ Desc string }
			}
			if err := dec.Decode(&m); err != nil {
				return fmt.Errorf("QMP: %w", err)
			}
			switch {
			case m.Error != nil:
				return fmt.Errorf("QMP: %s", m.Error.Desc)
			case m.Greeting != nil || m.Return != nil:
				return nil
			}
		}
	}
	run := func(cmd string, args any) error {
		b, err := json.Marshal(map[string]any{"execute": cmd, "arguments": args})
		if err != nil {
			return err
		}
		if _, err := conn.Write(b); err != nil {
			return fmt.Errorf("QMP %s: %w", cmd, err)
		}
		return reply()
	}
	if err := reply(); err != nil { // the greeting
		return err
	}
	if err := run("qmp_capabilities", struct{}{}); err != nil {
		return err
	}
	if err := run("screendump", map[string]string{"filename": file}); err != nil {
		return err
	}
	run("quit", struct{}{}) // QEMU may close the socket before replying
	return nil
}

// ReadPPM decodes a binary PPM (P6, 8 bits per channel), what QEMU's
// screendump writes.
func ReadPPM(file string) (*image.RGBA, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	// Header: "P6", width, height, maxval, separated by whitespace (and
	// comments), then one whitespace byte and the pixels.
	var fields []int
	i := 2
	if !bytes.HasPrefix(b, []byte("P6")) {
		return nil, errors.New("not a binary PPM (P6)")
	}
	for len(fields) < 3 {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' || b[i] == '#') {
			if b[i] == '#' {
				for i < len(b) && b[i] != '\n' {
					i++
				}
				continue
			}
			i++
		}
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		v, err := strconv.Atoi(string(b[i:j]))
		if err != nil {
			return nil, fmt.Errorf("PPM header: %w", err)
		}
		fields = append(fields, v)
		i = j
	}
	w, h, maxval := fields[0], fields[1], fields[2]
	i++ // the single whitespace byte after maxval
	if maxval != 255 || w <= 0 || h <= 0 || len(b)-i < w*h*3 {
		return nil, fmt.Errorf("PPM %dx%d maxval %d with %d bytes of pixels: unsupported or short", w, h, maxval, len(b)-i)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	px := b[i:]
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := px[(y*w+x)*3:]
			img.SetRGBA(x, y, color.RGBA{p[0], p[1], p[2], 0xff})
		}
	}
	return img, nil
}
