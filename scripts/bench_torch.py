#!/usr/bin/env python3
"""One BeatGAN D+G training step in PyTorch next to anolab's, and their ratio.

The same step as `anolab bench --only step`: batch 64, 1x320, ndf = ngf = 32, nz = 50,
f32, Adam(1e-4, 0.5, 0.999), D first (BCE), then G (reconstruction MSE + feature
matching), on the CPU with as many threads as anolab uses. Needs `torch`; run from the
repository root after `cargo build --release`:

    python3 scripts/bench_torch.py [--steps 20] [--threads N]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("torch is not installed: `pip install torch` first")


def encoder(nc, ndf, out):
    """Conv1d stack of the spec: 320 -> 160 -> 80 -> 40 -> 20 -> 10, then k10 to `out`."""
    layers = [nn.Sequential(nn.Conv1d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2))]
    for i in range(1, 5):
        c_in, c_out = ndf * 2 ** (i - 1), ndf * 2 ** i
        layers.append(nn.Sequential(nn.Conv1d(c_in, c_out, 4, 2, 1, bias=False),
                                    nn.BatchNorm1d(c_out), nn.LeakyReLU(0.2)))
    return nn.ModuleList(layers), nn.Conv1d(ndf * 16, out, 10, 1, 0, bias=False)


class Encoder(nn.Module):
    def __init__(self, nc, ndf, out):
        super().__init__()
        self.blocks, self.last = encoder(nc, ndf, out)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.last(x), x  # output and the last feature map


class Generator(nn.Module):
    def __init__(self, nc, ndf, ngf, nz):
        super().__init__()
        self.enc = Encoder(nc, ndf, nz)
        layers = [nn.ConvTranspose1d(nz, ngf * 16, 10, 1, 0, bias=False),
                  nn.BatchNorm1d(ngf * 16), nn.ReLU()]
        for i in range(4, 0, -1):
            layers += [nn.ConvTranspose1d(ngf * 2 ** i, ngf * 2 ** (i - 1), 4, 2, 1, bias=False),
                       nn.BatchNorm1d(ngf * 2 ** (i - 1)), nn.ReLU()]
        layers += [nn.ConvTranspose1d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.dec = nn.Sequential(*layers)

    def forward(self, x):
        return self.dec(self.enc(x)[0])


def torch_step_seconds(steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    g, d = Generator(1, 32, 32, 50), Encoder(1, 32, 1)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999))
    bce, mse = nn.BCEWithLogitsLoss(), nn.MSELoss()
    x = torch.tanh(0.3 * torch.randn(64, 1, 320))
    ones, zeros = torch.ones(64, 1, 1), torch.zeros(64, 1, 1)
    times = []
    for i in range(steps + 3):
        start = time.perf_counter()
        fake = g(x)
        opt_d.zero_grad()
        err_d = bce(d(x)[0], ones) + bce(d(fake.detach())[0], zeros)
        err_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        err_g = mse(fake, x) + mse(d(fake)[1], d(x)[1].detach())
        err_g.backward()
        opt_g.step()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def anolab_step_seconds(steps):
    binary = os.path.join("target", "release", "anolab")
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: run `cargo build --release` first")
    out = subprocess.run([binary, "bench", "--only", "step", "--repeats", str(steps)],
                         check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if "beatgan train step" in l)
    median, low, high = (float(v) for v in re.findall(r"\s(\d+\.\d+)", line)[:3])
    return median, low, high


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    t = torch_step_seconds(args.steps, args.threads)
    a = anolab_step_seconds(args.steps)
    print(f"torch {torch.__version__}, {args.threads} threads")
    print(f"pytorch step: median {t[0]:.3f} s (min {t[1]:.3f}, max {t[2]:.3f})")
    print(f"anolab  step: median {a[0]:.3f} s (min {a[1]:.3f}, max {a[2]:.3f})")
    print(f"ratio anolab / pytorch: {a[0] / t[0]:.2f}")


if __name__ == "__main__":
    main()
