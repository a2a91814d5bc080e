//go:build hurdvm

// Process groups and sessions (issue 17), as Linux's: setpgid, getpgid,
// getpgrp, setsid, getsid, kill of a group (pid 0, pid < -1) and of every
// process (-1), and the children wait4 and waitid select by pid, group or
// pidfd (procWaitSelect). Handler context, under the kernel lock
// (procSyscall).
//
// A process started by the kernel's program leads a session and a group
// of its own (as a login's shell would), so that its kill(0, sig) and
// kill(-1, sig) reach its own processes only: never the kernel's program,
// pid 1, which a process cannot signal (TestSignalsStayInTheProcess). A
// forked child is in its parent's group and session; execve keeps them.

package kernel

const (
	sysSetpgid = 109
	sysGetpgrp = 111
	sysSetsid  = 112
	sysGetpgid = 121
	sysGetsid  = 124
)

// procByPID is the index of the process with pid, live or ended and not
// yet reaped (a zombie, which Linux's pid lookups find too), or -1.
func procByPID(pid int32) int32 {
	if pid <= 0 {
		return -1
	}
	for j := range procs {
		if s := procs[j].state; (s == procRunning || s == procExited) && procs[j].info.PID == pid {
			return int32(j)
		}
	}
	return -1
}

// procSetpgid is setpgid(pid, pgid) from process me: pid 0 is the caller,
// else one of its children that has not made an execve yet (EACCES) in
// its session (EPERM); pgid 0 is the pid; a session leader cannot move
// (EPERM), and a group other than its own pid must exist in the session
// (EPERM). Linux's order of checks.
func procSetpgid(me, pid, pgid int32) uint64 {
	if pgid < 0 {
		return errno(eINVAL)
	}
	p := &procs[me]
	target := me
	if pid != 0 && pid != p.info.PID {
		j := procByPID(pid)
		if j < 0 || procs[j].parent != me+1 {
			return errno(eSRCH)
		}
		if procs[j].sid != p.sid {
			return errno(ePERM)
		}
		if procs[j].execed {
			return errno(eACCES)
		}
		target = j
	}
	c := &procs[target]
	if pgid == 0 {
		pgid = c.info.PID
	}
	if c.sid == c.info.PID {
		return errno(ePERM)
	}
	if pgid != c.info.PID && !procGroupInSession(pgid, p.sid) {
		return errno(ePERM)
	}
	c.pgid = pgid
	return 0
}

// procGroupInSession reports whether a live process of group pgid is in
// session sid.
func procGroupInSession(pgid, sid int32) bool {
	for j := range procs {
		if c := &procs[j]; c.state == procRunning && c.pgid == pgid && c.sid == sid {
			return true
		}
	}
	return false
}

// procGetID is getpgid(pid) (sid false) and getsid(pid) (sid true): pid 0
// the caller; ESRCH for a pid no process has (pid 1, the kernel's
// program, too: no process reaches it).
func procGetID(me, pid int32, sid bool) uint64 {
	j := me
	if pid != 0 {
		if j = procByPID(pid); j < 0 {
			return errno(eSRCH)
		}
	}
	if sid {
		return uint64(procs[j].sid)
	}
	return uint64(procs[j].pgid)
}

// procSetsid is setsid: the caller leads a new session and group, unless
// a group with its pid exists already (it leads one: EPERM).
func procSetsid(me int32) uint64 {
	p := &procs[me]
	for j := range procs {
		if c := &procs[j]; c.state == procRunning && c.pgid == p.info.PID {
			return errno(ePERM)
		}
	}
	p.sid, p.pgid = p.info.PID, p.info.PID
	return uint64(p.info.PID)
}

// procKillGroup is kill(pid, sig) from process me for pid 0 (its group),
// below -1 (group -pid) and -1 (every process but itself; never the
// kernel's program): each live one gets sig, the caller last (its SIGKILL
// ends it). ESRCH when the group has no process (a zombie counts, as on
// Linux, and gets nothing).
func procKillGroup(me, pid int32, sig uint64) uint64 {
	if sig >= nsig {
		return errno(eINVAL)
	}
	pgid := -pid
	if pid == 0 {
		pgid = procs[me].pgid
	}
	found, self := false, false
	for j := range procs {
		c := &procs[j]
		if c.state != procRunning && c.state != procExited {
			continue
		}
		if pid == -1 && int32(j) == me || pid != -1 && c.pgid != pgid {
			continue
		}
		found = true
		if int32(j) == me {
			self = true
			continue
		}
		if sig != 0 && c.state == procRunning {
			sendToProg(int32(j)+1, uint32(sig))
		}
	}
	if !found {
		return errno(eSRCH)
	}
	if self && sig != 0 {
		sendToProg(me+1, uint32(sig))
	}
	return 0
}

// A wait's selection of children (wait4's pid, waitid's idtype and id).
type waitSelect struct {
	kind uint8 // waitAny, waitPID, waitPGID
	id   int32
}

const (
	waitAny = iota
	waitPID
	waitPGID
)

// wait4Select is wait4's pid as a selection: -1 any child, 0 the
// caller's group, below -1 group -pid, else that pid.
func wait4Select(me, pid int32) waitSelect {
	switch {
	case pid == -1:
		return waitSelect{kind: waitAny}
	case pid == 0:
		return waitSelect{kind: waitPGID, id: procs[me].pgid}
	case pid < 0:
		return waitSelect{kind: waitPGID, id: -pid}
	}
	return waitSelect{kind: waitPID, id: pid}
}

// selects reports whether child c is one the wait with options waits
// for: its pid or group, and, as Linux's eligible_child, a child whose
// end sends SIGCHLD for a wait without __WCLONE, any other with it
// (__WALL: both).
func (w waitSelect) selects(c *proc, options uint64) bool {
	switch w.kind {
	case waitPID:
		if c.info.PID != w.id {
			return false
		}
	case waitPGID:
		if c.pgid != w.id {
			return false
		}
	}
	return options&wAll != 0 || (c.exitSignal != sigCHLD) == (options&wClone != 0)
}

// procChild looks for the children of process me that w selects: found
// says whether there is any (live or ended), ended is an ended one's
// index (-1: none).
func procChild(me int32, w waitSelect, options uint64) (found bool, ended int32) {
	ended = -1
	for j := range procs {
		c := &procs[j]
		if c.parent != me+1 || c.state != procRunning && c.state != procExited || !w.selects(c, options) {
			continue
		}
		found = true
		if c.state == procExited {
			return true, int32(j)
		}
	}
	return found, ended
}
