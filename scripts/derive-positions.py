#!/usr/bin/env python3
"""Derives NeuroGNN's compact table of soma positions from OpenWorm's c302 cell files.

Input:  a checkout of https://github.com/openworm/c302 (MIT licence); its
        c302/NeuroML2/<NEURON>.cell.nml files hold each neuron's morphology, converted from the
        WormBase VirtualWorm 3D model (Grove & Sternberg, Caltech; released into the public domain).
Output: src/data/positions.csv — one row per neuron: name,x,y,z, the centre of its soma segment
        (the first segment's proximal point) in micrometres; y runs along the body from head
        (negative) to tail (positive), z is dorsal (up) to ventral, x is left-right.
Usage: python3 scripts/derive-positions.py C302_CHECKOUT
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET

NS = '{http://www.neuroml.org/schema/neuroml2}'
root = sys.argv[1]
out = os.path.join(os.path.dirname(__file__), '../src/data/positions.csv')
rows = []
for path in sorted(glob.glob(os.path.join(root, 'c302/NeuroML2/*.cell.nml'))):
    cell = ET.parse(path).getroot().find(NS + 'cell')
    soma = next(s for s in cell.iter(NS + 'segment') if 'soma' in s.get('name', ''))
    p = soma.find(NS + 'proximal')
    rows.append((cell.get('id'), *(float(p.get(k)) for k in 'xyz')))
with open(out, 'w') as f:
    f.write('# C. elegans soma positions (micrometres), derived by scripts/derive-positions.py from\n')
    f.write("# OpenWorm's c302 cell models (MIT licence; github.com/openworm/c302), themselves from the\n")
    f.write('# WormBase VirtualWorm 3D model (Grove & Sternberg, Caltech; public domain).\n')
    f.write('# y: head (negative) to tail; z: dorsal-ventral; x: left-right.\n')
    f.write('name,x,y,z\n')
    for name, x, y, z in rows:
        f.write(f'{name},{x:g},{y:g},{z:g}\n')
print(f'{len(rows)} neurons → {out}')
