#!/usr/bin/env python3
"""Derives NeuroGNN's compact connectome file from the cect package's exports.

Input:  ../shared/data/connectome/{cook2019_hermaphrodite_edges.csv, varshney2011_edges.csv}
Output: src/data/connectome.csv — one row per ordered neuron pair with any synapse:
        pre,post,cook_chemical,cook_gap,varshney_chemical,varshney_gap
Weights: Cook et al. 2019 in EM sections; Varshney et al. 2011 in synapse counts (S + Sp rows,
i.e. sent chemical synapses, for chemical; EJ rows for gap junctions). Gap junctions are kept
in both directions. Neuromuscular (NMJ) rows and non-neuron partners of Varshney are dropped;
Cook's muscle and end-organ partners are kept (they never match a recorded neuron).
Usage: python3 scripts/derive-connectome.py [DATA_DIR]
"""
import csv
import os
import sys
from collections import defaultdict

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '../../shared/data/connectome')
out = os.path.join(os.path.dirname(__file__), '../src/data/connectome.csv')
weights = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])

with open(os.path.join(data, 'cook2019_hermaphrodite_edges.csv')) as f:
    for row in csv.DictReader(f):
        col = {'chemical': 0, 'gap_junction': 1}[row['type']]
        weights[(row['pre'], row['post'])][col] += float(row['weight'])

with open(os.path.join(data, 'varshney2011_edges.csv')) as f:
    for row in csv.DictReader(f):
        kind = row['Type']
        if kind in ('S', 'Sp'):
            weights[(row['Neuron 1'], row['Neuron 2'])][2] += float(row['Nbr'])
        elif kind == 'EJ':
            weights[(row['Neuron 1'], row['Neuron 2'])][3] += float(row['Nbr'])

def fmt(v):
    return str(int(v)) if v == int(v) else f'{v:g}'

with open(out, 'w', newline='') as f:
    f.write('# C. elegans hermaphrodite connectome, derived by scripts/derive-connectome.py from the cect\n')
    f.write('# package 0.3.5 (MIT licence): Cook et al. 2019 (Nature 571:63, corrected July 2020) and\n')
    f.write('# Varshney et al. 2011 (PLoS Comput Biol 7:e1001066). Weights: Cook = EM sections,\n')
    f.write('# Varshney = synapse counts; 0 = no synapse of that kind.\n')
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['pre', 'post', 'cook_chemical', 'cook_gap', 'varshney_chemical', 'varshney_gap'])
    for (pre, post), v in sorted(weights.items()):
        w.writerow([pre, post] + [fmt(x) for x in v])
print(f'wrote {len(weights)} pairs to {out}')
