#!/usr/bin/env python3
"""PyTorch baseline for tests/bench/gpu_vs_torch.sh.

Trains torchvision's resnet50 in eager mode with autocast (fp16 with a GradScaler, or bf16),
channels_last and cudnn.benchmark, on synthetic data that lives on the GPU, with the optimizer
and loss of the kubetrain worker (SGD momentum 0.9, weight decay 1e-4, label smoothing 0.1).
Prints one JSON line with "imagesPerSecond" measured after the warm-up steps.
"""

import argparse
import json
import time

import torch
import torchvision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--precision", choices=["fp16", "bf16", "fp32"], default="fp16")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--warmup-steps", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("torch_resnet50_synthetic.py: no CUDA device visible to PyTorch")

    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")
    model = torchvision.models.resnet50(num_classes=1000).to(device)
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    autocast_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[
        args.precision
    ]
    use_scaler = args.precision == "fp16"
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)
    else:  # PyTorch before 2.3
        scaler = torch.cuda.amp.GradScaler(enabled=use_scaler)

    generator = torch.Generator(device=device).manual_seed(1)
    images = torch.randn(
        args.batch, 3, args.image_size, args.image_size, device=device, generator=generator
    ).to(memory_format=torch.channels_last)
    labels = torch.randint(0, 1000, (args.batch,), device=device, generator=generator)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=autocast_dtype, enabled=args.precision != "fp32"):
            loss = criterion(model(images), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    for _ in range(args.warmup_steps):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "framework": f"pytorch {torch.__version__}",
                "device": torch.cuda.get_device_name(0),
                "precision": args.precision,
                "batch": args.batch,
                "steps": args.steps,
                "imagesPerSecond": args.batch * args.steps / seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
