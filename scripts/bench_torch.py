#!/usr/bin/env python3
"""One BeatGAN D+G training step in PyTorch next to anolab's, and their ratio.

The same step as `anolab bench --only step`: batch 64, 1x320, ndf = ngf = 32, nz = 50,
f32, Adam(1e-4, 0.5, 0.999), D first (BCE), then G (reconstruction MSE + feature
matching), on the CPU with as many threads as anolab uses, or on a GPU (`--device cuda`,
anolab then runs with `--device cuda:0`, built with `--features cuda`). Needs `torch`; run
from the repository root after `cargo build --release`:

    python3 scripts/bench_torch.py [--steps 20] [--threads N] [--device cpu|cuda]
                                   [--precision f32|tf32] [--anolab PATH] [--torch-only]
    python3 scripts/bench_torch.py --runs 16 [--epochs 3 --windows 2048 --width 8 ...]

`--precision` sets both of PyTorch's TF32 switches (`torch.backends.cudnn.allow_tf32`,
whose default is True, and `torch.backends.cuda.matmul.allow_tf32`, default False) and
anolab's `--precision`, so that both sides compute alike; on the CPU it must be f32.
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


def set_precision(precision):
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"


class Run:
    """One BeatGAN run's networks, optimisers and losses (the official step's)."""

    def __init__(self, dev, ndf, nz, lr, batch):
        self.g = Generator(1, ndf, ndf, nz).to(dev)
        self.d = Encoder(1, ndf, 1).to(dev)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=lr, betas=(0.5, 0.999))
        self.bce, self.mse = nn.BCEWithLogitsLoss(), nn.MSELoss()
        self.ones = torch.ones(batch, 1, 1, device=dev)
        self.zeros = torch.zeros(batch, 1, 1, device=dev)

    def step(self, x):
        """D first (BCE), then G (reconstruction MSE + feature matching)."""
        fake = self.g(x)
        self.opt_d.zero_grad()
        err_d = self.bce(self.d(x)[0], self.ones) + self.bce(self.d(fake.detach())[0], self.zeros)
        err_d.backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        err_g = self.mse(fake, x) + self.mse(self.d(fake)[1], self.d(x)[1].detach())
        err_g.backward()
        self.opt_g.step()
        return err_d

    @torch.no_grad()
    def score(self, windows, batch):
        """Per-window reconstruction error in evaluation mode, batch by batch."""
        self.g.eval()
        out = [((self.g(w) - w) ** 2).mean(dim=(1, 2)) for w in windows.split(batch)]
        self.g.train()
        return torch.cat(out)


def torch_step_seconds(steps, threads, device, precision):
    torch.set_num_threads(threads)
    set_precision(precision)
    torch.manual_seed(0)
    dev = torch.device(device)
    # A GPU step is timed from an idle device to the end of its last kernel.
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    run = Run(dev, 32, 50, 1e-4, 64)
    x = torch.tanh(0.3 * torch.randn(64, 1, 320)).to(dev)
    times = []
    for i in range(steps + 3):
        sync()
        start = time.perf_counter()
        run.step(x)
        sync()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def sequential_runs_seconds(args):
    """`--runs N`: N BeatGAN runs one after another, each `--epochs` epochs over
    `--windows` training windows (batches of 64, the last partial one dropped) with
    `--val-windows` validation windows scored after every epoch and `--test-windows` once
    at the end, as an anolab run does (the defaults are the quick start's fold-0 split of
    data/mitdb-mini: 2,048 / 620 / 2,758); synthetic windows of the real shapes, so data
    loading is not timed. Wall time of all N."""
    torch.set_num_threads(args.threads)
    set_precision(args.precision)
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    batch = 64
    sync()
    start = time.perf_counter()
    for i in range(args.runs):
        torch.manual_seed(i)
        train = torch.tanh(0.3 * torch.randn(args.windows, 1, 320)).to(dev)
        val = torch.tanh(0.3 * torch.randn(args.val_windows, 1, 320)).to(dev)
        test = torch.tanh(0.3 * torch.randn(args.test_windows, 1, 320)).to(dev)
        run = Run(dev, args.width, args.nz, args.lr, batch)
        for _ in range(args.epochs):
            order = torch.randperm(args.windows, device=dev)
            for b in range(args.windows // batch):
                run.step(train[order[b * batch:(b + 1) * batch]])
            run.score(val, 1024).cpu()
        run.score(test, 1024).cpu()
    sync()
    return time.perf_counter() - start


def anolab_step_seconds(steps, threads, binary, device, precision):
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: run `cargo build --release` first")
    # The same number of CPU threads as PyTorch was given.
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([binary, "bench", "--only", "step", "--repeats", str(steps),
                          "--device", device, "--precision", precision],
                         check=True, capture_output=True, text=True, env=env).stdout
    line = next(l for l in out.splitlines() if "beatgan train step" in l)
    median, low, high = (float(v) for v in re.findall(r"\s(\d+\.\d+)", line)[:3])
    return median, low, high


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--precision", choices=["f32", "tf32"], default="f32")
    parser.add_argument("--anolab", default=os.path.join("target", "release", "anolab"),
                        help="the anolab binary (default target/release/anolab)")
    parser.add_argument("--torch-only", action="store_true",
                        help="time the PyTorch step alone, without anolab")
    parser.add_argument("--runs", type=int, default=0,
                        help="instead of the step: time N whole runs one after another "
                             "(the quick start's shapes by default)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--windows", type=int, default=2048, help="training windows per run")
    parser.add_argument("--val-windows", type=int, default=620,
                        help="validation windows scored after every epoch")
    parser.add_argument("--test-windows", type=int, default=2758,
                        help="test windows scored at the end of a run")
    parser.add_argument("--width", type=int, default=8, help="ndf = ngf")
    parser.add_argument("--nz", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: torch sees no GPU")
    if args.device == "cpu" and args.precision != "f32":
        sys.exit("--precision tf32 needs --device cuda")
    where = (torch.cuda.get_device_name(0) if args.device == "cuda"
             else f"{args.threads} threads")
    print(f"torch {torch.__version__}, {where}, {args.precision}")
    if args.runs:
        wall = sequential_runs_seconds(args)
        print(f"pytorch sequential: {args.runs} runs (width {args.width}, nz {args.nz}, "
              f"{args.epochs} epochs of {args.windows} windows) in {wall:.1f} s "
              f"({args.runs * 3600 / wall:.0f} runs/hour)")
        return
    t = torch_step_seconds(args.steps, args.threads, args.device, args.precision)
    print(f"pytorch step: median {t[0]:.4f} s (min {t[1]:.4f}, max {t[2]:.4f})")
    if args.torch_only:
        return
    device = "cuda:0" if args.device == "cuda" else "cpu"
    a = anolab_step_seconds(args.steps, args.threads, args.anolab, device, args.precision)
    print(f"anolab  step: median {a[0]:.4f} s (min {a[1]:.4f}, max {a[2]:.4f})")
    print(f"ratio anolab / pytorch: {a[0] / t[0]:.2f}")


if __name__ == "__main__":
    main()
