package handlercheck

import (
	"slices"
	"strings"
)

// Config says where handler context starts and what it may not reach.
type Config struct {
	// Roots are the functions handler context enters by (symbol names).
	Roots []string
	// Interfaces are the interfaces whose implementations handler code
	// calls: every itab of theirs in the binary is followed from an
	// interface call that names one of their methods (and from calls the
	// decoder could not attribute at all).
	Interfaces []string
	// Forbidden are what handler context must never reach.
	Forbidden []Rule
	// Checks are the compiler's run-time check functions (index, slice,
	// divide, shift...): counted, not followed; failures only with Strict.
	Checks []Pattern
	// StackGrowth are the prologues' stack-check targets (morestack):
	// skipped, or forbidden when ForbidStackGrowth.
	StackGrowth       []Pattern
	ForbidStackGrowth bool
	// Allow are edges the design accepts; they are not followed.
	Allow []Allowance
	// Strict makes run-time check sites and unattributed indirect calls
	// failures too.
	Strict bool
}

// Pattern matches function names (canonical: ".abi0" dropped): the whole
// name, or with a trailing "*" every name it starts.
type Pattern string

func (p Pattern) Match(name string) bool {
	name = canonical(name)
	if prefix, ok := strings.CutSuffix(string(p), "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return name == string(p)
}

// Rule forbids reaching the functions Pattern matches.
type Rule struct {
	Pattern Pattern
	What    string // the kind of violation: "allocation", "write barrier"...
	// OutsideRuntime limits the rule to calls from outside the runtime:
	// an explicit panic(...) in kernel code calls gopanic, while the
	// runtime's own failure paths (a throw on a broken invariant, the
	// panic of an impossible case) end in a fault the kernel turns into
	// a kernel panic. Calls from the runtime are not followed either.
	OutsideRuntime bool
}

// Allowance accepts calls to the functions To matches: from From only
// ("" every caller, making To a cut point where handler context ends; a
// function inlined into the caller at the call counts as a caller too), in
// the search from Root only ("" every root).
type Allowance struct {
	Root, From string
	To         Pattern
	Reason     string
	// Finding marks a real violation accepted until it is fixed: the
	// summary counts the known findings, -v lists them with their paths.
	Finding bool
}

// forbidden returns the rule that forbids caller to reach callee, and
// whether it is a rule that does not hold because the caller is the
// runtime (the callee is then not followed either).
func (c *Config) forbidden(caller, callee string) (*Rule, bool) {
	for i := range c.Forbidden {
		if r := &c.Forbidden[i]; r.Pattern.Match(callee) {
			return r, r.OutsideRuntime && inRuntime(caller)
		}
	}
	return nil, false
}

// allowance returns the allowance for a call from callers (the calling
// function, then what is inlined at the call, outermost first) to callee.
func (c *Config) allowance(root string, callers []string, callee string) *Allowance {
	for i := range c.Allow {
		a := &c.Allow[i]
		if (a.Root == "" || a.Root == root) && a.To.Match(callee) &&
			(a.From == "" || slices.ContainsFunc(callers, func(n string) bool { return canonical(n) == canonical(a.From) })) {
			return a
		}
	}
	return nil
}

func matchAny(ps []Pattern, name string) bool {
	for _, p := range ps {
		if p.Match(name) {
			return true
		}
	}
	return false
}

// The Go runtime's functions that handler context (the kernel g: stack
// bounds and nothing else, no m, no p) must not reach, as of Go 1.26.
var (
	allocation = []Pattern{
		"runtime.mallocgc*", "runtime.newobject", "runtime.newarray", "runtime.growslice",
		"runtime.makeslice*", "runtime.convT*", "runtime.makemap*", "runtime.makechan*",
		"runtime.mapassign*", "runtime.concatstring*", "runtime.slicebytetostring",
		"runtime.slicerunetostring", "runtime.stringtoslicebyte", "runtime.stringtoslicerune",
		"runtime.intstring", "runtime.rawstring*", "runtime.newproc*", "reflect.unsafe_New*",
	}
	// A defer the compiler cannot open-code links a record into the g's
	// defer chain, through gp.m: the kernel g has no m.
	deferRecord = []Pattern{"runtime.deferproc*", "runtime.deferprocat", "runtime.deferrangefunc"}
	locking     = []Pattern{
		"runtime.lock", "runtime.lock2", "runtime.lockWithRank", "runtime.semacquire*",
		"sync.(*Mutex).*", "internal/sync.(*Mutex).*", "sync.(*RWMutex).*",
		"sync.(*WaitGroup).Wait", "sync.(*Once).doSlow",
		"runtime.chansend*", "runtime.chanrecv*", "runtime.selectgo", "runtime.closechan",
		"runtime.gopark", "runtime.Gosched",
	}
	writeBarrier = []Pattern{
		"runtime.gcWriteBarrier*", "runtime.wbBufFlush*", "runtime.typedmemmove",
		"runtime.typedslicecopy", "runtime.typedmemclr", "runtime.bulkBarrierPreWrite*",
		"runtime.wbZero", "runtime.wbMove", "runtime.memclrHasPointers", "reflect.typedmemmove",
	}
	// gopanic, throw and fatal from kernel code: an explicit panic(...)
	// or a runtime error the kernel asked for. The runtime's own checks
	// reached from kernel code are not counted (see Rule.OutsideRuntime).
	panicking = []Pattern{"runtime.gopanic", "runtime.throw", "runtime.fatal*"}
	// A type assertion without comma-ok panics through these on mismatch.
	assertion = []Pattern{"runtime.panicdottype*", "runtime.panicnildottype"}

	// RuntimeChecks are the targets of the compiler's run-time checks.
	RuntimeChecks = []Pattern{
		"runtime.panicIndex*", "runtime.panicSlice*", "runtime.panicBounds*", "runtime.panicExtend*",
		"runtime.panicdivide", "runtime.panicshift", "runtime.panicunsafe*", "runtime.panicoverflow",
		"runtime.panicwrap", "runtime.panicrangestate", "runtime.panicmakeslice*",
	}
	// StackGrowth are the function prologues' stack-check targets.
	StackGrowth = []Pattern{"runtime.morestack", "runtime.morestack_noctxt"}
)

// ForbiddenRules are the rules of docs/DESIGN.md, "Handler context" for Go 1.26.
func ForbiddenRules() []Rule {
	var rs []Rule
	add := func(what string, outside bool, ps []Pattern) {
		for _, p := range ps {
			rs = append(rs, Rule{Pattern: p, What: what, OutsideRuntime: outside})
		}
	}
	add("allocation", false, allocation)
	add("defer record", false, deferRecord)
	add("lock", false, locking)
	add("write barrier", false, writeBarrier)
	add("panic", true, panicking)
	add("type assertion panic", false, assertion)
	return rs
}

// KernelConfig is hurdvm's handler context: where it is entered, which
// interfaces it calls, and the edges its design accepts.
func KernelConfig() Config {
	return Config{
		Roots: []string{
			// trapCommon (trap_amd64.s) calls trap for every system
			// call, interrupt and exception; syscallEntry and the
			// vectors jump there.
			kernelTrap,
			// entry (entry_amd64.s) runs kmain on the trap stack before
			// the runtime has started.
			kernelMain,
		},
		Interfaces:  []string{"hurdvm/paging.Frames", "hurdvm/paging.TLB", "hurdvm/mm/store.Backend", "hurdvm/mm/store.Frames"},
		Forbidden:   ForbiddenRules(),
		Checks:      RuntimeChecks,
		StackGrowth: StackGrowth,
		Allow:       append(RuntimeAllowances(), kernelAllowances...),
	}
}

const (
	kernelTrap = "hurdvm/kernel.trap"
	kernelMain = "hurdvm/kernel.kmain"
)

var kernelAllowances = []Allowance{
	{
		From: "hurdvm/kernel.reportPanicAddr", To: "hurdvm/kernel.reportPanicEntry",
		Reason: "cut point: kernelPanic injects reportPanicEntry as a call into the thread that was " +
			"running and leaves handler context through resumeFrame; the report runs there as ordinary " +
			"Go code on that thread's g0, after the kernel panic has started",
	},
	{
		Root: kernelMain, To: "runtime.gcWriteBarrier*",
		Reason: "kmain runs before the runtime's first instruction: runtime.writeBarrier is still " +
			"zero, so the compiler's test before the barrier skips it (this is where the kernel " +
			"binds its address spaces and page tables to their Go pointers once)",
	},
	{Root: kernelMain, To: "runtime.wbMove", Reason: "as runtime.gcWriteBarrier* from kmain"},
	{Root: kernelMain, To: "runtime.wbZero", Reason: "as runtime.gcWriteBarrier* from kmain"},
	// getrandom's generator (kernel/random) runs golang.org/x/crypto's
	// ChaCha20 in handler context. Its failure paths cannot be taken with
	// the arguments Generator.Read passes, so they are accepted here,
	// each with the reason, rather than the cipher written again.
	{
		From: "hurdvm/kernel/random.(*Generator).Read", To: "runtime.gopanic",
		Reason: "Read panics if ChaCha20 refuses its key or nonce: both are fixed-size arrays of the sizes it takes",
	},
	{
		From: "golang.org/x/crypto/chacha20.newUnauthenticatedCipher", To: "runtime.newobject",
		Reason: "errors.New for a key or nonce of the wrong size: Read's are constants of the right sizes",
	},
	{
		From: "golang.org/x/crypto/chacha20.hChaCha20", To: "runtime.newobject",
		Reason: "errors.New for a wrong key or nonce size; hChaCha20 serves 24-byte (XChaCha20) nonces, Read uses 12",
	},
	{
		From: "golang.org/x/crypto/chacha20.(*Cipher).XORKeyStream", To: "runtime.gopanic",
		Reason: "panics for dst shorter than src, inexact overlap, or a counter past 2^32 blocks: Read passes " +
			"the same slice as dst and src, at most 4 KiB, under a key used for one call only",
	},
	{
		From: "golang.org/x/crypto/chacha20.(*Cipher).xorKeyStreamBlocksGeneric", To: "runtime.gopanic",
		Reason: "panics for a counter past 2^32 blocks (256 GiB under one key): Read rekeys at every call",
	},
	{
		Root: kernelMain, From: "github.com/usbarmory/tamago/soc/intel/uart.(*UART).Init", To: "runtime.gopanic",
		Reason: "Init panics on a UART without a base port; consoleInit calls it only on com1, " +
			"whose Base is the constant 0x3f8",
	},
}

// RuntimeAllowances are the runtime functions compiled Go code calls that
// handler context may reach although their code can reach forbidden ones.
func RuntimeAllowances() []Allowance {
	return []Allowance{
		{
			To: "runtime.deferreturn",
			Reason: "a function with open-coded defers calls it only on the exit a recovered panic " +
				"resumes at; a defer that is not open-coded calls runtime.deferproc*, which is forbidden",
		},
		{
			To: "runtime.ifaceeq",
			Reason: "comparing two interfaces of the same dynamic type: it panics (building the " +
				"message, which allocates) only when that type is not comparable, and otherwise " +
				"calls the type's equality function",
		},
		{To: "runtime.efaceeq", Reason: "as runtime.ifaceeq, for empty interfaces"},
	}
}
