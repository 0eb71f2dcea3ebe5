"""Writes small valid seed files for the fuzz targets into fuzz/corpus/<target>/ (not committed).
Usage: python3 fuzz/seeds.py   (needs numpy and h5py)"""
import io, os, struct, zlib
import numpy as np
import h5py

root = os.path.join(os.path.dirname(__file__), "corpus")
rng = np.random.default_rng(7)
traces = rng.standard_normal((40, 6)).astype(np.float32)
names = np.array(["AVAL", "AVAR", "3", "RIML", "VB1", "SMDVR"])
states = rng.integers(0, 3, 40).astype(np.int8)

def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)

buf = io.BytesIO()
np.savez(buf, traces=traces, neuron_names=names, states=states, state_names=np.array(["fwd", "rev1", "dt"]), fps=np.float32(2.9))
put("npz", "small.npz", buf.getvalue())
buf = io.BytesIO(); np.save(buf, traces.T); put("npz", "small.npy", buf.getvalue())

# MATLAB v5: struct `worm` with a double matrix, a cell of char names and a scalar fps.
def element(dtype, payload):
    pad = (-len(payload)) % 8
    return struct.pack("<II", dtype, len(payload)) + payload + b"\0" * pad
def matrix(cls, dims, name, body, flags=0):
    content = element(6, struct.pack("<II", cls | flags, 0)) + element(5, struct.pack("<" + "i" * len(dims), *dims)) + element(1, name.encode()) + body
    return element(14, content)
def double(name, a):
    a = np.asarray(a, dtype=np.float64)
    dims = a.shape if a.ndim == 2 else (1, a.size)
    return matrix(6, dims, name, element(9, a.T.tobytes() if a.ndim == 2 else a.tobytes()))
def char(name, s):
    return matrix(4, (1, len(s)), name, element(4, np.array([ord(c) for c in s], dtype="<u2").tobytes()))
def cell(name, items):
    return matrix(1, (1, len(items)), name, b"".join(items))
def struct_(name, fields):
    width = 32
    names = b"".join(f.encode().ljust(width, b"\0") for f, _ in fields)
    body = element(5, struct.pack("<i", width)) + element(1, names) + b"".join(v for _, v in fields)
    return matrix(2, (1, 1), name, body)
worm = struct_("worm", [
    ("deltaFOverF_bc", double("", traces)),
    ("NeuronNames", cell("", [char("", n) for n in names])),
    ("fps", double("", np.array([[2.9]]))),
])
header = b"MATLAB 5.0 MAT-file, seed".ljust(116, b" ") + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"
put("mat5", "small.mat", header + worm)
put("mat5", "small-compressed.mat", header + struct.pack("<II", 15, len(zlib.compress(worm))) + zlib.compress(worm))

with h5py.File(os.path.join(root, "tmp.h5"), "w") as f:
    g = f.create_group("rec")
    g.create_dataset("calcium", data=traces.T)
    g.create_dataset("time", data=np.arange(40) / 2.9)
    g.create_dataset("behaviour", data=states)
    g["calcium"].attrs["rate"] = 2.9
os.makedirs(os.path.join(root, "hdf5"), exist_ok=True)
os.replace(os.path.join(root, "tmp.h5"), os.path.join(root, "hdf5", "plain.h5"))

csv = "time_s," + ",".join(names) + ",state\n" + "".join(f"{t / 2.9:.3f}," + ",".join(f"{v:.4f}" for v in row) + f",{['fwd','rev1','dt'][s]}\n" for t, (row, s) in enumerate(zip(traces, states)))
put("csv", "small.csv", csv.encode())
put("csv", "names.csv", (",".join(names) + "\n").encode())
print("seeds written under", root)
