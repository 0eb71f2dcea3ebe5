#!/usr/bin/env python3
"""The six NeuroGNN networks written in PyTorch, to time a training step beside
`neurognn bench models` on the same machine (run by hand, never in CI):

    python3 -m venv target/torch-venv && target/torch-venv/bin/pip install torch numpy
    target/torch-venv/bin/python bench/torch_models.py --nodes 22 --threads 1
    cargo run --release --bin neurognn -- bench models --nodes 22

Same architectures, sizes and defaults as src/model (linear; MLP 64 wide; GRU 64; GCN and GAT
32 wide, 2 rounds; NRI 32 wide, 3 edge types, relaxed edges), the same step (forward, masked
next-step MSE (+ NRI's KL), backward, AdamW), the same timing (warm-up steps, then the mean of
timed steps, each reading its loss back). Inputs are noise of the same shape: batch × history ×
nodes × 2 features.
"""
import argparse
import time

import torch
from torch import nn
import torch.nn.functional as F


class Encoder(nn.Module):
    """Each node's window (history × features) to a state, plus a learnt identity per node."""

    def __init__(self, history, nodes, features, d, identity=True):
        super().__init__()
        self.input = nn.Linear(history * features, d)
        self.identity = nn.Embedding(nodes, d) if identity else None

    def forward(self, x):  # [b, h, n, f] -> [b, n, d]
        b, h, n, f = x.shape
        w = x.permute(0, 2, 1, 3).reshape(b, n, h * f)
        s = self.input(w)
        if self.identity is not None:
            s = s + self.identity.weight.unsqueeze(0)
        return F.relu(s)


class NodeReadout(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.hidden, self.out = nn.Linear(d, d), nn.Linear(d, 1)

    def forward(self, h):  # [b, n, d] -> [b, n]
        return self.out(F.relu(self.hidden(h))).squeeze(-1)


class Flat(nn.Module):
    def __init__(self, history, nodes, features, hidden, layers, dropout=0.1):
        super().__init__()
        inputs, mods = history * nodes * features, []
        for _ in range(layers):
            mods += [nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(dropout)]
            inputs = hidden
        mods.append(nn.Linear(inputs, nodes))
        self.net = nn.Sequential(*mods)

    def forward(self, x, a):
        return self.net(x.reshape(x.shape[0], -1)), None


class GruNet(nn.Module):
    def __init__(self, history, nodes, features, hidden=64, dropout=0.1):
        super().__init__()
        self.gru = nn.GRU(nodes * features, hidden, batch_first=True)
        self.drop, self.out = nn.Dropout(dropout), nn.Linear(hidden, nodes)

    def forward(self, x, a):
        b, h, n, f = x.shape
        states, _ = self.gru(x.reshape(b, h, n * f))
        return self.out(self.drop(states[:, -1])), None


class Gcn(nn.Module):
    def __init__(self, history, nodes, features, d=32, layers=2, dropout=0.1):
        super().__init__()
        self.enc = Encoder(history, nodes, features, d)
        self.own = nn.ModuleList(nn.Linear(d, d) for _ in range(layers))
        self.nb = nn.ModuleList(nn.Linear(d, d) for _ in range(layers))
        self.drop, self.read = nn.Dropout(dropout), NodeReadout(d)

    def forward(self, x, a):
        h = self.enc(x)
        for own, nb in zip(self.own, self.nb):
            h = h + self.drop(F.relu(own(h) + nb(a @ h)))
        return self.read(h), None


class Gat(nn.Module):
    def __init__(self, history, nodes, features, d=32, layers=2, dropout=0.1):
        super().__init__()
        self.enc = Encoder(history, nodes, features, d)
        self.value = nn.ModuleList(nn.Linear(d, d) for _ in range(layers))
        self.recv = nn.ModuleList(nn.Linear(d, 1) for _ in range(layers))
        self.send = nn.ModuleList(nn.Linear(d, 1, bias=False) for _ in range(layers))
        self.drop, self.read = nn.Dropout(dropout), NodeReadout(d)

    def forward(self, x, a):
        n = x.shape[2]
        allowed = ((a > 0).float() + torch.eye(n)).clamp(max=1.0)
        h = self.enc(x)
        for value, recv, send in zip(self.value, self.recv, self.send):
            v = value(h)
            scores = recv(v) + send(v).transpose(1, 2)
            scores = F.leaky_relu(scores, 0.2) + (allowed - 1.0) * 1e4
            h = h + self.drop(F.relu(torch.softmax(scores, 2) @ v))
        return self.read(h), None


class PairLinear(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.recv, self.send = nn.Linear(d_in, d_out), nn.Linear(d_in, d_out, bias=False)

    def forward(self, h):  # [b, n, d] -> [b, n, n, d]
        return self.recv(h).unsqueeze(2) + self.send(h).unsqueeze(1)


class Nri(nn.Module):
    """Encoder node→edge→node→edge over all pairs, edge-type posteriors with a prior, KL, and a
    decoder passing messages weighted by the (relaxed) edge types."""

    def __init__(self, history, nodes, features, d=32, k=3, prior_no_edge=0.9):
        super().__init__()
        self.node_in = Encoder(history, nodes, features, d)
        self.edge1, self.node2 = PairLinear(d, d), nn.Linear(d, d)
        self.edge2_nodes, self.edge2_edge = PairLinear(d, d), nn.Linear(d, d, bias=False)
        self.edge_logits = nn.Linear(d, k)
        prior = torch.tensor([prior_no_edge] + [(1 - prior_no_edge) / (k - 1)] * (k - 1)).log()
        self.register_buffer("log_prior", prior)
        self.pair_logits = nn.Parameter(prior.reshape(1, 1, k).repeat(nodes, nodes, 1).clone())
        self.decoder_in = Encoder(history, nodes, features, d, identity=False)
        self.identity = nn.Embedding(nodes, d)
        self.messages = nn.ModuleList(nn.Linear(d, d) for _ in range(k - 1))
        self.update = nn.Linear(2 * d, d)
        self.gains = nn.Parameter(torch.tensor([0.1 if t % 2 == 1 else -0.1 for t in range(1, k)]))
        self.read = NodeReadout(d)

    def forward(self, x, a):
        b, hist, n, _ = x.shape
        valid = (1.0 - torch.eye(n)).expand(b, n, n)
        valid4 = valid.unsqueeze(3)
        senders = valid.sum(2, keepdim=True).clamp(min=1.0)
        h = self.node_in(x)
        e = F.relu(self.edge1(h)) * valid4
        v = F.relu(self.node2(e.sum(2) / senders))
        e2 = F.relu(self.edge2_nodes(v) + self.edge2_edge(e))
        logits = self.edge_logits(e2) + self.pair_logits.unsqueeze(0)
        q = torch.softmax(logits, 3)
        kl = ((q * (torch.log_softmax(logits, 3) - self.log_prior)).sum(3) * valid).sum() / valid.sum().clamp(min=1.0)
        newest = x[:, -1, :, 0:1]
        u = self.decoder_in(x)
        incoming = torch.zeros(b, n, u.shape[2])
        linear = torch.zeros(b, n, 1)
        for t, net in enumerate(self.messages):
            w = q[..., t + 1] * valid
            linear = linear + (w @ newest) * self.gains[t]
            incoming = incoming + w @ F.relu(net(u))
        node = F.relu(self.update(torch.cat([u, incoming], 2)) + self.identity.weight.unsqueeze(0))
        return self.read(node) + linear.squeeze(2), kl


def build(kind, history, nodes, features):
    return {
        "linear": lambda: Flat(history, nodes, features, 64, 0),
        "MLP": lambda: Flat(history, nodes, features, 64, 1),
        "GRU": lambda: GruNet(history, nodes, features),
        "GCN": lambda: Gcn(history, nodes, features),
        "GAT": lambda: Gat(history, nodes, features),
        "NRI": lambda: Nri(history, nodes, features),
    }[kind]()


def ms_per_step(kind, nodes, history, batch, steps, warm=3):
    torch.manual_seed(0)
    net = build(kind, history, nodes, 2)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    x = torch.rand(4 * batch, history, nodes, 2) - 0.5
    y = torch.rand(4 * batch, nodes) - 0.5
    mask = torch.ones(batch, nodes)
    a = torch.full((nodes, nodes), 1.0 / nodes)

    def step(i):
        s = (i % 4) * batch
        out, kl = net(x[s:s + batch], a)
        loss = (((out - y[s:s + batch]) ** 2) * mask).sum() / mask.sum()
        if kl is not None:
            loss = loss + 0.01 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()  # read back, as each timed step of `neurognn bench models` does

    for i in range(warm):
        step(i)
    started = time.perf_counter()
    for i in range(steps):
        step(i)
    params = sum(p.numel() for p in net.parameters())
    return (time.perf_counter() - started) * 1e3 / steps, params


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=22)
    p.add_argument("--history", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1: one core, as burn's CPU backend)")
    p.add_argument("--models", default="linear,MLP,GRU,GCN,GAT,NRI")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__} CPU, {args.threads} thread(s); batch {args.batch}, {args.nodes} nodes, history {args.history}, 2 features")
    print(f"{'model':<8} {'params':>10} {'ms per step':>14}")
    for kind in args.models.split(","):
        ms, params = ms_per_step(kind, args.nodes, args.history, args.batch, args.steps)
        print(f"{kind:<8} {params:>10} {ms:>14.2f}")


if __name__ == "__main__":
    main()
