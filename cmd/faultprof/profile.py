# The instruction profile of one page fault: gdb single-steps the guest
# (QEMU's gdbstub, interrupts held off while stepping, -icount so that the
# guest clock moves by instructions and no time slice ends under the
# stepping) from the faulting store in main.touch until that store has
# completed, and counts the instructions by function. make profile-fault.
import collections
import gdb

gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote :" + PORT)
gdb.execute("break main.touch")
gdb.execute("ignore 1 %d" % WARM)  # faults after the warm-up: tables exist
gdb.execute("continue", to_string=True)
gdb.execute("delete")


def pc():
    return int(gdb.parse_and_eval("$pc"))


def function(p):
    b = gdb.block_for_pc(p)
    while b is not None and b.function is None:
        b = b.superblock
    return b.function.name if b is not None else "?"


# Up to the store (main.touch: one MOVB through its argument).
for _ in range(32):
    if "movb" in gdb.execute("x/i $pc", to_string=True).lower():
        break
    gdb.execute("stepi", to_string=True)
store = pc()
after = store + gdb.selected_frame().architecture().disassemble(store)[0]["length"]
counts = collections.Counter()
gdb.execute("stepi", to_string=True)  # the store faults: the CPU enters vector 14
n = 0
while pc() != after and n < 100000:
    counts[function(pc())] += 1
    gdb.execute("stepi", to_string=True)
    n += 1
with open(OUT, "w") as f:
    f.write("instructions from the faulting store to its retry's end: %d\n" % n)
    for name, c in counts.most_common():
        f.write("%6d  %s\n" % (c, name))
gdb.execute("kill")
