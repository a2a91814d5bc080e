// Command handlers is the binary the handlercheck tests read: each root*
// function is a handler-context entry for one test, with (or without) one
// kind of thing handler context must not reach. It is built, never run.
package main

import (
	"errors"
	"os"
	"sync"
)

type node struct{ next *node }

var (
	head    *node
	counter int
	mu      sync.Mutex
)

// Sink is the interface the tests check; Other one they do not.
type Sink interface{ Put(p *node) }
type Other interface{ Take(n int) int }

type store struct{}

func (store) Put(p *node) { head = p } // a write barrier, through an itab

type count struct{}

func (count) Take(n int) int { counter += n; return counter }

//go:noinline
func add(n int) int { counter += n; return counter }

//go:noinline
func rootClean() { add(1) }

//go:noinline
func link(p *node) { head = p }

//go:noinline
func rootWriteBarrier(p *node) { add(2); link(p) }

//go:noinline
func newNode() *node { return new(node) }

//go:noinline
func rootAlloc() *node { return newNode() }

//go:noinline
func apply(f func(*node), p *node) { f(p) }

//go:noinline
func rootClosure(p *node) { apply(func(q *node) { head = q }, p) }

//go:noinline
func rootCapture(p *node, n int) {
	apply(func(q *node) {
		if n > 0 {
			head = q
		}
	}, p)
}

var errFailed = errors.New("failed")

//go:noinline
func each(f func(i int)) {
	for i := range 2 {
		f(i)
	}
}

// rootCapturedError is mm's remove as it was: the closure stores an error
// (a pointer-carrying interface) into a variable it captured, through the
// closure context, which takes a write barrier.
//
//go:noinline
func rootCapturedError() error {
	var failed error
	each(func(i int) {
		if i > 0 {
			failed = errFailed
		}
	})
	return failed
}

// rootCapturedBool is the fix: a bool needs no barrier.
//
//go:noinline
func rootCapturedBool() error {
	failed := false
	each(func(i int) {
		if i > 0 {
			failed = true
		}
	})
	if failed {
		return errFailed
	}
	return nil
}

//go:noinline
func put(s Sink, p *node) { s.Put(p) }

//go:noinline
func rootInterface(p *node) { put(store{}, p) }

//go:noinline
func take(o Other, n int) int { return o.Take(n) }

//go:noinline
func rootOther() int { return take(count{}, 3) }

//go:noinline
func rootPanic(n int) {
	if n < 0 {
		panic("negative")
	}
	add(n)
}

//go:noinline
func rootAssert(v any) int { return v.(int) }

//go:noinline
func rootLock() {
	mu.Lock()
	counter++
	mu.Unlock()
}

//go:noinline
func rootIndex(s []int, i int) int { return s[i] }

func main() {
	p := &node{}
	rootClean()
	rootWriteBarrier(p)
	rootAlloc()
	rootClosure(p)
	rootCapture(p, len(os.Args))
	rootInterface(p)
	rootOther()
	rootPanic(len(os.Args))
	rootAssert(len(os.Args))
	rootLock()
	rootIndex([]int{1, 2}, len(os.Args))
	rootCapturedError()
	rootCapturedBool()
}
