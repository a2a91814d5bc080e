# The instruction profile of one page fault (WHAT='fault') or of one
# in-kernel allocate+deallocate pair (WHAT='pair'), or of an mmap+munmap
# pair through the personality (WHAT='syspair'), or of a copy-on-write
# fault (WHAT='cow'), or of the start of a fork's page-table copy (WHAT='fork'), or of
# a 2 MiB map_now allocation after idling (WHAT='mapnow'): gdb single-steps the
# guest (QEMU's gdbstub, interrupts held off while stepping, -icount so
# that the guest clock moves by instructions and no time slice ends under
# the stepping) from the faulting store in main.touch until that store has
# completed, or through one call of main.pair, and counts the
# instructions by function. make profile-fault [PROFILE=pair|syspair|cow|fork|mapnow].
import collections
import gdb

gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote :" + PORT)
if WHAT == "fork":
    # Too long to step whole: the first instructions of its walk over
    # the page tables, which then copies entry after entry.
    gdb.execute("break 'hurdvm/paging.(*PageTable).shareLeaves'")
else:
    gdb.execute("break main." + {"pair": "pair", "syspair": "syspair", "cow": "cowTouch", "mapnow": "mapNow"}.get(WHAT, "touch"))
gdb.execute("ignore 1 %d" % {"fork": 0, "mapnow": 2}.get(WHAT, WARM))  # faults after the warm-up: tables exist
gdb.execute("continue", to_string=True)
gdb.execute("delete")


def pc():
    return int(gdb.parse_and_eval("$pc"))


def function(p):
    b = gdb.block_for_pc(p)
    while b is not None and b.function is None:
        b = b.superblock
    return b.function.name if b is not None else "?"


counts = collections.Counter()
n = 0
if WHAT in ("pair", "syspair", "fork", "mapnow"):
    # Through one call: until the caller's next instruction.
    ret = gdb.selected_frame().older().pc()
    what = {"pair": "instructions in one main.pair (VMAllocate+VMDeallocate)",
            "syspair": "instructions in one main.syspair (mmap+munmap)",
            "mapnow": "instructions in one VMAllocate of 2 MiB with map_now, after idling",
            "fork": "the first 30,000 instructions of Task.Fork's page-table walk (4 MiB touched: 1,024 pages)"}[WHAT]
    limit = 30000 if WHAT == "fork" else 100000
    while pc() != ret and n < limit:
        counts[function(pc())] += 1
        gdb.execute("stepi", to_string=True)
        n += 1
else:
    # Up to the store (main.touch, main.cowTouch: one MOVB through its
    # argument).
    for _ in range(32):
        if "movb" in gdb.execute("x/i $pc", to_string=True).lower():
            break
        gdb.execute("stepi", to_string=True)
    store = pc()
    after = store + gdb.selected_frame().architecture().disassemble(store)[0]["length"]
    what = "instructions from the faulting store to its retry's end"
    gdb.execute("stepi", to_string=True)  # the store faults: the CPU enters vector 14
    while pc() != after and n < 100000:
        counts[function(pc())] += 1
        gdb.execute("stepi", to_string=True)
        n += 1
with open(OUT, "w") as f:
    f.write("%s: %d\n" % (what, n))
    for name, c in counts.most_common():
        f.write("%6d  %s\n" % (c, name))
gdb.execute("kill")
