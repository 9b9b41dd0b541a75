#!/usr/bin/env python3
"""One BeatGAN D+G training step in PyTorch next to anolab's, and their ratio.

The same step as `anolab bench --only step`: batch 64, 1x320, ndf = ngf = 32, nz = 50,
f32, Adam(1e-4, 0.5, 0.999), D first (BCE), then G (reconstruction MSE + feature
matching), on the CPU with as many threads as anolab uses, or on a GPU (`--device cuda`,
anolab then runs with `--device cuda:0`, built with `--features cuda`). Needs `torch`; run
from the repository root after `cargo build --release`:

    python3 scripts/bench_torch.py [--steps 20] [--threads N] [--device cpu|cuda]
                                   [--precision f32|tf32] [--anolab PATH] [--torch-only]

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


def torch_step_seconds(steps, threads, device, precision):
    torch.set_num_threads(threads)
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.manual_seed(0)
    dev = torch.device(device)
    # A GPU step is timed from an idle device to the end of its last kernel.
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    g, d = Generator(1, 32, 32, 50).to(dev), Encoder(1, 32, 1).to(dev)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999))
    bce, mse = nn.BCEWithLogitsLoss(), nn.MSELoss()
    x = torch.tanh(0.3 * torch.randn(64, 1, 320)).to(dev)
    ones, zeros = torch.ones(64, 1, 1, device=dev), torch.zeros(64, 1, 1, device=dev)
    times = []
    for i in range(steps + 3):
        sync()
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
        sync()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


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
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: torch sees no GPU")
    if args.device == "cpu" and args.precision != "f32":
        sys.exit("--precision tf32 needs --device cuda")
    t = torch_step_seconds(args.steps, args.threads, args.device, args.precision)
    where = (torch.cuda.get_device_name(0) if args.device == "cuda"
             else f"{args.threads} threads")
    print(f"torch {torch.__version__}, {where}, {args.precision}")
    print(f"pytorch step: median {t[0]:.4f} s (min {t[1]:.4f}, max {t[2]:.4f})")
    if args.torch_only:
        return
    device = "cuda:0" if args.device == "cuda" else "cpu"
    a = anolab_step_seconds(args.steps, args.threads, args.anolab, device, args.precision)
    print(f"anolab  step: median {a[0]:.4f} s (min {a[1]:.4f}, max {a[2]:.4f})")
    print(f"ratio anolab / pytorch: {a[0] / t[0]:.2f}")


if __name__ == "__main__":
    main()
