#!/usr/bin/env python3
"""Replays anolab's BeatGAN training steps in PyTorch and compares them (issue #18).

`cargo run --release --example beatgan_parity -- DIR OUT STEPS` writes anolab's initial
weights, the batches, its losses per step and its final weights; this loads the same
weights into the PyTorch networks of `scripts/bench_torch.py` (the spec's, which are
the official code's layer for layer), runs the same steps (D first: BCE on D(x) and
D(G(x).detach()); then G: MSE(G(x), x) + w_adv * MSE(f(G(x)), f(x)), Adam(1e-4, 0.5,
0.999, eps 1e-8)) and prints, per step, both sides' losses and their relative
difference, then the largest relative difference of any weight after the last step.

    python3 scripts/beatgan_parity.py OUT [--threads N]

Needs `torch` and `safetensors`.
"""
import argparse
import json
import os
import sys

import torch
from torch import nn
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(__file__))
from bench_torch import Encoder, Generator  # noqa: E402


def anolab_names(prefix, encoder):
    """anolab's variable names for the encoder modules of `bench_torch.Encoder`."""
    names = {f"{prefix}.conv0.weight": encoder.blocks[0][0].weight}
    for i in range(1, 5):
        conv, bn = encoder.blocks[i][0], encoder.blocks[i][1]
        names[f"{prefix}.block{i}.conv.weight"] = conv.weight
        for p in ("weight", "bias", "running_mean", "running_var"):
            names[f"{prefix}.block{i}.bn.{p}"] = getattr(bn, p)
    names[f"{prefix}.final.weight"] = encoder.last.weight
    return names


def decoder_names(prefix, dec):
    layers = list(dec)
    names = {f"{prefix}.convt0.weight": layers[0].weight}
    for p in ("weight", "bias", "running_mean", "running_var"):
        names[f"{prefix}.bn0.{p}"] = getattr(layers[1], p)
    for i in range(1, 5):
        convt, bn = layers[3 * i], layers[3 * i + 1]
        names[f"{prefix}.block{i}.convt.weight"] = convt.weight
        for p in ("weight", "bias", "running_mean", "running_var"):
            names[f"{prefix}.block{i}.bn.{p}"] = getattr(bn, p)
    names[f"{prefix}.final.weight"] = layers[15].weight
    return names


def tensors(g, d):
    out = anolab_names("g.enc", g.enc)
    out.update(decoder_names("g.dec", g.dec))
    out.update(anolab_names("d", d))
    return out


def replay(init, x_all, steps, perturb=0.0):
    """PyTorch's losses per step and final weights from `init` on `x_all`; `perturb`
    multiplies every initial value by (1 + perturb * N(0, 1)) first (a round-off-sized
    change, to see how far two runs that differ only by round-off drift apart)."""
    g, d = Generator(1, 32, 32, 50), Encoder(1, 32, 1)
    names = tensors(g, d)
    missing = set(init) ^ set(names)
    if missing:
        sys.exit(f"names differ between anolab and the torch networks: {sorted(missing)}")
    noise = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, t in names.items():
            t.copy_(init[name])
            if perturb:
                t.mul_(1 + perturb * torch.randn(t.shape, generator=noise))
    g.train()
    d.train()
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999), eps=1e-8)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999), eps=1e-8)
    bce, mse = nn.BCEWithLogitsLoss(), nn.MSELoss()
    batch = 64
    losses = []
    for step in range(steps):
        x = x_all[step * batch:(step + 1) * batch]
        fake = g(x)
        opt_d.zero_grad()
        real_logit, fake_logit = d(x)[0], d(fake.detach())[0]
        err_d = bce(real_logit, torch.ones_like(real_logit)) + \
            bce(fake_logit, torch.zeros_like(fake_logit))
        err_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        err_rec = mse(fake, x)
        err_adv = mse(d(fake)[1], d(x)[1].detach())
        err_g = err_rec + err_adv
        err_g.backward()
        opt_g.step()
        losses.append([err_d.item(), err_g.item(), err_rec.item(), err_adv.item()])
    return losses, {n: t.detach().clone() for n, t in names.items()}


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the folder the example wrote")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--perturb", type=float, default=1e-7,
                        help="also replay from weights perturbed by this relative amount "
                             "and show torch-vs-torch drift (0: skip)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    init = load_file(os.path.join(args.out, "init.safetensors"))
    final = load_file(os.path.join(args.out, "final.safetensors"))
    x_all = load_file(os.path.join(args.out, "batches.safetensors"))["x"]
    anolab_losses = json.load(open(os.path.join(args.out, "losses.json")))
    steps = len(anolab_losses)
    torch_losses, torch_final = replay(init, x_all, steps)
    drift = replay(init, x_all, steps, args.perturb)[0] if args.perturb else None
    names = ("err_d", "err_g", "err_g_rec", "err_g_adv")
    print("step  " + "  ".join(f"{n:>30}" for n in names)
          + ("   torch-vs-perturbed-torch (largest)" if drift else ""))
    for step in range(steps):
        pairs = zip(anolab_losses[step], torch_losses[step])
        line = "  ".join(f"{a:.6f}/{b:.6f} ({relative(a, b):.0e})" for a, b in pairs)
        if drift:
            line += "   " + f"{max(relative(a, b) for a, b in zip(drift[step], torch_losses[step])):.0e}"
        print(f"{step:>4}  {line}")
    worst = max(relative(a, b) for s in range(steps)
                for a, b in zip(anolab_losses[s], torch_losses[s]))
    print(f"largest relative loss difference, anolab vs torch: {worst:.2e}")
    if drift:
        own = max(relative(a, b) for s in range(steps)
                  for a, b in zip(drift[s], torch_losses[s]))
        print(f"largest relative loss difference, torch vs torch perturbed by "
              f"{args.perturb:g}: {own:.2e}")
    flips = sum(int(((final[n].float() - init[n].float()) * (t - init[n].float()) < 0).sum())
                for n, t in torch_final.items())
    total = sum(t.numel() for t in torch_final.values())
    print(f"weights updated in opposite directions after {steps} steps: {flips} of {total}")


if __name__ == "__main__":
    main()
