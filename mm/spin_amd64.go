package mm

// spinPause is the PAUSE instruction: a spinning CPU yields its pipeline
// (and, under a hypervisor, its time) to the lock's holder.
//
//go:noescape
func spinPause()
